// Running a command on a fleet host as deploy with the real OpenSSH client (strict host keys), for
// test set-up and assertions that must not go through the CLI under test.
import { execFile } from 'node:child_process'
import type { Fleet, FleetHost } from '../../fleet/fleet.js'

export function sshExec(
  fleet: Fleet,
  host: FleetHost,
  command: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'ssh',
      [
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${fleet.knownHostsFile}`,
        '-i',
        host.identityFile,
        '-p',
        String(host.port),
        `${host.user}@${host.address}`,
        command,
      ],
      (error, stdout, stderr) =>
        resolve({
          code: error
            ? typeof (error as { code?: unknown }).code === 'number'
              ? (error as { code: number }).code
              : 1
            : 0,
          stdout,
          stderr,
        }),
    )
  })
}
