import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base-command.js'
import { acceptNewFlag } from '../../src/cli/target-flags.js'

export default class ImagesBuild extends BaseCommand {
  static override summary =
    "Build the images stacks declare with x-ai-platform.build and push them to the platform's registry."
  static override description = `Each image is built once (services with the same build inputs share it), tagged with the ref the render pins as the services' image (<image_registry>/<name>:src-<digest of the context's files, the Dockerfile's path and the args>), and pushed. An image the registry already holds is skipped unless --force: the same tag is the same inputs.

Where: --on HOST (or platform.builder) builds on that host's Docker engine over its SSH connection, the context sent as a tar stream; otherwise the local Docker CLI builds, with a DOCKER_CONFIG of the run's own (removed afterwards). The registry's log-in is platform.registry_auth, its password a declared secret read from secrets.env: it goes to the engine per request, or to a Docker CLI config of the run's own (0600, removed afterwards; no credential helper is asked), never in argv.

JSON report (--json): {kind: "ai-platform/images-build", ok, platform, registry, builder: {kind: local|host, host?}, dryRun, login: {username, secret}|null, images: [{ref, services, context, dockerfile, args, digest, registry: present|absent|unknown, status: planned|skipped|pushed|failed, error?, hint?}]}.`
  static override enableJsonFlag = true
  static override strict = false
  static override args = {
    services: Args.string({
      description: 'Services to build (default: every service built from source).',
      required: false,
    }),
  }
  static override flags = {
    on: Flags.string({
      description: 'Build on this host of the inventory (default: platform.builder).',
      helpValue: 'HOST',
    }),
    local: Flags.boolean({
      description: 'Build with the local Docker CLI even when platform.builder is set.',
      default: false,
    }),
    force: Flags.boolean({
      description: 'Build and push even when the registry already has the image.',
      default: false,
    }),
    'dry-run': Flags.boolean({
      description: 'List the images, their refs and where they would be built; contact nothing.',
      default: false,
    }),
    ...acceptNewFlag,
  }

  static override examples = [
    '<%= config.bin %> images build --dry-run',
    '<%= config.bin %> images build --on hephaestus',
    '<%= config.bin %> images build service-registry --force --json',
  ]

  async run(): Promise<unknown> {
    const { flags, argv } = await this.parse(ImagesBuild)
    const { openProject } = await import('../../src/config/open.js')
    const { buildImages } = await import('../../src/images/service.js')
    const { formatImagesBuild } = await import('../../src/ui/images-text.js')
    const { stderrLine } = await import('../../src/cli/reporters.js')
    const { project } = await openProject(flags.project, { connecting: 'images build' })
    const redact = flags['dry-run'] ? (text: string) => text : await this.secretsMask(project)
    const signals = this.interruptible({
      steps: [{ called: 'stop the build', doing: 'stopping the build in progress' }],
      left: () => 'an image half built or half pushed is not tagged in the registry: run the command again.',
    })
    let report
    try {
      report = await buildImages(project, {
        services: argv as string[],
        on: flags.on,
        local: flags.local,
        force: flags.force,
        dryRun: flags['dry-run'],
        acceptNew: flags['accept-new'],
        redact,
        // stderr whatever --json says (oclif's logToStderr is silent under --json): stdout is the report
        progress: stderrLine,
        signal: signals.after(1),
      })
    } finally {
      signals.dispose()
    }
    if (!report.ok) process.exitCode = 1
    if (this.jsonEnabled()) return report
    this.logStyled(formatImagesBuild(report).join('\n'))
    return undefined
  }
}
