// A sealed environment for the single executables' tests (test/dist/): a private mount namespace
// where the repository is an empty tmpfs and every node a shell could find outside it is
// /dev/null, so a command can only pass by not needing Node. The command then runs with a clean
// environment; exit 99 says node was still reachable (a test can never pass on Node by accident).
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';

// Every node a shell could find outside `root`.
export function reachableNodes(root: string): string[] {
  const r = spawnSync('sh', ['-c', 'which -a node nodejs; for d in /usr/bin /bin /usr/local/bin; do ls $d/node $d/nodejs; done'], { encoding: 'utf8' });
  const all = r.stdout.split('\n').filter(Boolean).map((p) => { try { return realpathSync(p); } catch { return ''; } });
  return [...new Set(all)].filter((p) => p && !p.startsWith(root + '/'));
}

// `tag` names the tmpfs mounts (and the message); $SEAL_EXTRA, when set, is evaluated in the
// seal before the command (e.g. a binfmt registration).
const SEAL = (tag: string) => `set -e
mount -t tmpfs -o mode=0755 ${tag}-sealed "$SEAL_ROOT"
for n in $SEAL_NODES; do mount --bind /dev/null "$n"; done
for d in /usr/lib/node_modules /usr/local/lib/node_modules /usr/share/nodejs /usr/lib/nodejs; do
  if [ -d "$d" ]; then mount -t tmpfs -o mode=0755 ${tag}-sealed "$d"; fi
done
eval "\${SEAL_EXTRA:-}"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
if command -v node >/dev/null || command -v nodejs >/dev/null || [ -e "$SEAL_ROOT/node_modules" ]; then
  echo "${tag}: node is reachable in the sealed environment" >&2; exit 99
fi
exec env -i PATH="$PATH" "$@"`;

/** argv that runs `cmd` sealed (to spawn as is, or after `ip netns exec NS`). */
export function sealedArgv(tag: string, cmd: string[]): string[] {
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', SEAL(tag), 'sh', ...cmd];
}

/** The environment sealedArgv's shell reads. */
export function sealedEnv(root: string, extra = ''): NodeJS.ProcessEnv {
  return { ...process.env, SEAL_ROOT: root, SEAL_NODES: reachableNodes(root).join(' '), SEAL_EXTRA: extra };
}
