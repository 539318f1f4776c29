// Every message the loader and validator can produce, each triggered by one small edit of the minimal fixture.
import type { IssueCode } from '../../../src/config/issues.js'
import type { Edits } from '../../helpers/project.js'

export interface ErrorCase {
  name: string
  edits: Edits
  /** The code of each line (src/config/issues.ts), in report order. */
  codes: IssueCode[]
  /** Exact formatted lines, in report order. */
  expected: string[]
}

const replace = (from: string, to: string) => (text: string) => {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${from}`)
  return text.replace(from, to)
}

/** The app service of the minimal fixture built from source: `build` is the x-ai-platform.build value. */
const builtApp = (build: string) =>
  replace('    x-ai-platform:\n      requires:', `    x-ai-platform:\n      build: ${build}\n      requires:`)
const withoutImage = (edit: (text: string) => string) => (text: string) =>
  edit(replace('    image: example/app:1\n', '')(text))
const withRegistry = replace('  domain: lab.test', '  domain: lab.test\n  image_registry: registry.lab.test:5000')

export const ERROR_CASES: ErrorCase[] = [
  {
    name: 'unknown host key',
    edits: { 'inventory/hosts.yaml': replace('    address: 10.0.0.1', '    adress: 10.0.0.1') },
    codes: ['schema'],
    expected: [
      'inventory/hosts.yaml:3:5 hosts.alpha.adress: unknown key (allowed address, local, ssh, tags, description, hardware, base_dir, mounts, models, ollama, got "adress")',
    ],
  },
  {
    name: 'enum: GPU vendor',
    edits: { 'inventory/hosts.yaml': replace('vendor: amd', 'vendor: rocm') },
    codes: ['schema'],
    expected: ['inventory/hosts.yaml:9:32 hosts.beta.hardware.gpu.vendor: must be one of nvidia, amd (got "rocm")'],
  },
  {
    name: 'type: cpus as text',
    edits: { 'inventory/hosts.yaml': replace('    tags: [db]', '    tags: [db]\n    hardware: { cpus: eight }') },
    codes: ['schema'],
    expected: ['inventory/hosts.yaml:13:23 hosts.gamma.hardware.cpus: must be an integer (got "eight")'],
  },
  {
    name: 'required: platform name',
    edits: { 'inventory/platform.yaml': replace('  name: mini\n', '') },
    codes: ['schema'],
    expected: ['inventory/platform.yaml:2:3 platform.name: required key is missing'],
  },
  {
    name: 'unsafe host name',
    edits: { 'inventory/hosts.yaml': replace('  gamma:', '  "Gamma Host":') },
    codes: ['schema'],
    expected: [
      'inventory/hosts.yaml:10:3 hosts["Gamma Host"]: is not an allowed name (allowed lowercase letters, digits, \'-\' and \'_\', starting with a letter or digit, at most 63 characters, got "Gamma Host")',
    ],
  },
  {
    name: 'shell characters in an address',
    edits: { 'inventory/hosts.yaml': replace('address: 10.0.0.3', 'address: "$(reboot)"') },
    codes: ['schema'],
    expected: [
      "inventory/hosts.yaml:11:14 hosts.gamma.address: has a value that is not allowed (allowed an IP address or a DNS name (letters, digits, '.', ':' and '-'), got \"$(reboot)\")",
    ],
  },
  {
    name: 'a secret named like a variable the shell or Docker reads',
    edits: {
      'inventory/platform.yaml': replace(
        '    API_KEY: { prefix: sk- }',
        '    API_KEY: { prefix: sk- }\n    DOCKER_HOST: {}\n    PATH: {}',
      ),
    },
    codes: ['schema', 'schema'],
    expected: [
      'inventory/platform.yaml:7:5 platform.secrets.DOCKER_HOST: is not an allowed name (allowed upper-case letters, digits and _, starting with a letter; not a name the shell, Docker or Compose reads from the environment that starts compose (PATH, HOME, IFS, DOCKER_*, COMPOSE_*, LD_*, SSH_*, LC_*, ...), got "DOCKER_HOST")',
      'inventory/platform.yaml:8:5 platform.secrets.PATH: is not an allowed name (allowed upper-case letters, digits and _, starting with a letter; not a name the shell, Docker or Compose reads from the environment that starts compose (PATH, HOME, IFS, DOCKER_*, COMPOSE_*, LD_*, SSH_*, LC_*, ...), got "PATH")',
    ],
  },
  {
    name: 'unsafe service name',
    edits: { 'stacks/db.yaml': replace('  db:', '  "db;rm -rf /":') },
    codes: ['schema'],
    expected: [
      'stacks/db.yaml:5:3 services["db;rm -rf /"]: is not an allowed name (allowed lowercase letters, digits, \'-\' and \'_\', starting with a letter or digit, at most 63 characters, got "db;rm -rf /")',
    ],
  },
  {
    name: 'path traversal in a stack file path',
    edits: { 'stacks/app.yaml': replace('path: app/app.conf', 'path: ../../etc/passwd') },
    codes: ['schema'],
    expected: [
      'stacks/app.yaml:5:39 x-ai-platform.files[0].path: has a value that is not allowed (allowed a relative path without a leading / or .., got "../../etc/passwd")',
    ],
  },
  {
    name: 'oneOf: port mapping without target',
    edits: { 'stacks/db.yaml': replace('ports: ["5432:5432"]', 'ports: [{ published: 5432 }]') },
    codes: ['schema'],
    expected: ['stacks/db.yaml:9:13 services.db.ports[0].target: required key is missing'],
  },
  {
    name: 'duplicate YAML key',
    edits: {
      'stacks/db.yaml': replace(
        '    image: postgres:16-alpine',
        '    image: postgres:16-alpine\n    image: postgres:15',
      ),
    },
    codes: ['invalid-yaml'],
    expected: ['stacks/db.yaml:7:5 invalid YAML: Map keys must be unique'],
  },
  {
    name: 'unknown top-level stack key',
    edits: { 'stacks/db.yaml': replace('services:', 'servics:') },
    codes: ['schema', 'schema'],
    expected: [
      'stacks/db.yaml:1:1 services: required key is missing',
      'stacks/db.yaml:4:1 servics: unknown key (allowed version, x-ai-platform, services, volumes, networks, x-*, got "servics")',
    ],
  },
  {
    name: 'overlay network',
    edits: { 'stacks/db.yaml': (t) => `${t}networks:\n  mesh: { driver: overlay }\n` },
    codes: ['schema'],
    expected: ['stacks/db.yaml:16:19 networks.mesh.driver: must be one of bridge (got "overlay")'],
  },
  {
    name: 'missing x-ai-platform',
    edits: { 'stacks/db.yaml': replace('x-ai-platform:\n  placement: { tags: [db] }\n  phase: infra\n', '') },
    codes: ['schema'],
    expected: ['stacks/db.yaml:1:1 x-ai-platform: required key is missing'],
  },
  {
    name: 'unknown phase',
    edits: { 'stacks/db.yaml': replace('phase: infra', 'phase: database') },
    codes: ['schema'],
    expected: ['stacks/db.yaml:3:10 x-ai-platform.phase: must be one of infra, ai, monitor (got "database")'],
  },
  {
    name: 'build is not supported',
    edits: {
      'stacks/db.yaml': replace('    image: postgres:16-alpine', '    image: postgres:16-alpine\n    build: .'),
    },
    codes: ['schema'],
    expected: [
      "stacks/db.yaml:7:5 services.db.build: Compose's build is not supported: hosts pull images; build from source with x-ai-platform.build and `ai-platform images build`",
    ],
  },
  {
    name: "Compose's build next to x-ai-platform.build",
    edits: {
      'stacks/app.yaml': (t) =>
        builtApp('{ context: docker/app }')(replace('    image: example/app:1\n', '    build: .\n')(t)),
      'inventory/platform.yaml': withRegistry,
      'docker/app/Dockerfile': 'FROM alpine\n',
    },
    codes: ['schema'],
    expected: [
      "stacks/app.yaml:8:5 services.app.build: Compose's build is not supported: x-ai-platform.build already builds this service's image; remove build",
    ],
  },
  {
    name: 'x-ai-platform.build without platform.image_registry',
    edits: {
      'stacks/app.yaml': withoutImage(builtApp('{ context: docker/app }')),
      'docker/app/Dockerfile': 'FROM alpine\n',
    },
    codes: ['build-registry'],
    expected: [
      'stacks/app.yaml:15:7 services.app.x-ai-platform.build: needs platform.image_registry: images built from source are pushed there and pulled from there',
    ],
  },
  {
    name: 'x-ai-platform.build and image both',
    edits: {
      'stacks/app.yaml': builtApp('{ context: docker/app }'),
      'inventory/platform.yaml': withRegistry,
      'docker/app/Dockerfile': 'FROM alpine\n',
    },
    codes: ['build-image'],
    expected: [
      'stacks/app.yaml:8:12 services.app.image: a service built from source gets its image from the build: the render sets it to the ref `images build` pushes (allowed image or x-ai-platform.build, not both, got "example/app:1")',
    ],
  },
  {
    name: 'an override setting the image of a service built from source',
    edits: {
      'stacks/ollama.yaml': (t) =>
        replace(
          '    image: ollama/ollama:0.5.7\n',
          '',
        )(
          replace('      gpu: { count: all }', '      gpu: { count: all }\n      build: { context: docker/ollama }')(t),
        ),
      'inventory/platform.yaml': withRegistry,
      'docker/ollama/Dockerfile': 'FROM ollama/ollama:0.5.7\n',
    },
    codes: ['build-image'],
    expected: [
      'stacks/ollama.yaml:14:25 services.ollama.x-ai-platform.overrides[0].set.image: a service built from source runs the image it builds on every host (allowed no image in overrides of a service with x-ai-platform.build, got "ollama/ollama:0.5.7-rocm")',
    ],
  },
  {
    name: 'a service with neither image nor x-ai-platform.build',
    edits: { 'stacks/app.yaml': replace('    image: example/app:1\n', '') },
    codes: ['build-image'],
    expected: [
      'stacks/app.yaml:8:5 services.app: has no image (allowed image: REF, or x-ai-platform.build to build it from source)',
    ],
  },
  {
    name: 'a build context climbing out of the platform directory',
    edits: {
      'stacks/app.yaml': withoutImage(builtApp('{ context: ../outside }')),
      'inventory/platform.yaml': withRegistry,
    },
    codes: ['build-context'],
    expected: [
      'stacks/app.yaml:15:25 services.app.x-ai-platform.build.context: must stay inside the platform directory (allowed a directory inside the platform directory, relative to it, got "../outside")',
    ],
  },
  {
    name: 'a build context that does not exist',
    edits: {
      'stacks/app.yaml': withoutImage(builtApp('{ context: docker/none }')),
      'inventory/platform.yaml': withRegistry,
    },
    codes: ['build-context'],
    expected: [
      'stacks/app.yaml:15:25 services.app.x-ai-platform.build.context: no such directory (allowed a directory inside the platform directory, relative to it, got "docker/none")',
    ],
  },
  {
    name: 'a Dockerfile the build context does not hold',
    edits: {
      'stacks/app.yaml': withoutImage(builtApp('{ context: docker/app, dockerfile: app.Dockerfile }')),
      'inventory/platform.yaml': withRegistry,
      'docker/app/Dockerfile': 'FROM alpine\n',
    },
    codes: ['build-context'],
    expected: [
      'stacks/app.yaml:15:49 services.app.x-ai-platform.build.dockerfile: no such file (allowed a file inside the build context, relative to it, got "app.Dockerfile")',
    ],
  },
  {
    name: 'registry credentials without a registry, with an undeclared secret; a builder that is no host',
    edits: {
      'inventory/platform.yaml': replace(
        '  domain: lab.test',
        '  domain: lab.test\n  registry_auth: { username: fleet, password_secret: REG_PASSWORD }\n  builder: delta',
      ),
    },
    codes: ['registry-auth', 'registry-auth', 'unknown-host'],
    expected: [
      'inventory/platform.yaml:4:3 platform.registry_auth: credentials for no registry: set platform.image_registry',
      'inventory/platform.yaml:4:54 platform.registry_auth.password_secret: is not a declared secret (allowed a secret under platform.secrets (API_KEY, DB_PASSWORD), got "REG_PASSWORD")',
      'inventory/platform.yaml:5:12 platform.builder: unknown host (allowed alpha, beta, gamma, got "delta")',
    ],
  },
  {
    name: 'start_interval is not Compose v1',
    edits: {
      'stacks/db.yaml': replace(
        'test: ["CMD-SHELL", "pg_isready"]',
        'test: ["CMD-SHELL", "pg_isready"]\n      start_interval: 1s',
      ),
    },
    codes: ['schema'],
    expected: [
      'stacks/db.yaml:12:7 services.db.healthcheck.start_interval: unknown key (allowed test, interval, timeout, retries, start_period, disable, got "start_interval")',
    ],
  },
  {
    name: 'unknown host in placement',
    edits: { 'stacks/app.yaml': replace('hosts: [alpha]', 'hosts: [alpha, delta]') },
    codes: ['unknown-host'],
    expected: [
      'stacks/app.yaml:2:31 x-ai-platform.placement.hosts[1]: unknown host (allowed alpha, beta, gamma, got "delta")',
    ],
  },
  {
    name: 'unknown tag in placement',
    edits: { 'stacks/db.yaml': replace('tags: [db]', 'tags: [database]') },
    codes: ['unknown-tag'],
    expected: ['stacks/db.yaml:2:23 x-ai-platform.placement.tags[0]: no host carries this tag (got "database")'],
  },
  {
    name: 'requires an unknown service',
    edits: { 'stacks/app.yaml': replace('requires: [db, ollama]', 'requires: [db, ollama, cache]') },
    codes: ['unknown-service'],
    expected: [
      'stacks/app.yaml:16:30 services.app.x-ai-platform.requires[2]: requires an unknown service (allowed app, db, ollama, got "cache")',
    ],
  },
  {
    name: 'requires itself',
    edits: { 'stacks/app.yaml': replace('requires: [db, ollama]', 'requires: [db, app]') },
    codes: ['requires-itself'],
    expected: [
      'stacks/app.yaml:16:22 services.app.x-ai-platform.requires[1]: a service cannot require itself (got "app")',
    ],
  },
  {
    name: 'requires an unplaced service',
    edits: { 'stacks/db.yaml': replace('tags: [db]', 'hosts: []') },
    codes: ['requires-unplaced'],
    expected: [
      'stacks/app.yaml:16:18 services.app.x-ai-platform.requires[0]: requires "db", which is placed on no host (got "db")',
    ],
  },
  {
    name: 'service dependency cycle',
    edits: {
      'stacks/db.yaml': replace(
        '      health:\n        - tcp: { port: 5432 }',
        '      requires: [app]\n      health:\n        - tcp: { port: 5432 }',
      ),
    },
    codes: ['dependency-cycle'],
    expected: [
      'stacks/app.yaml:16:17 services.app.x-ai-platform.requires: dependency cycle: app -> db -> app (allowed requires without cycles)',
    ],
  },
  {
    name: 'host dependency cycle',
    edits: {
      'stacks/extra.yaml':
        'x-ai-platform:\n  placement: { hosts: [gamma] }\n  phase: ai\nservices:\n  worker:\n    image: example/worker:1\n    x-ai-platform:\n      requires: [app]\n',
      'stacks/db.yaml': replace(
        '      health:\n        - tcp: { port: 5432 }',
        '      health:\n        - tcp: { port: 5432 }\n',
      ),
    },
    codes: ['host-cycle'],
    expected: [
      'stacks/app.yaml:16:17 services.app.x-ai-platform.requires: host dependency cycle: alpha -> gamma -> alpha (app on alpha requires db on gamma; worker on gamma requires app on alpha) (allowed requires that order hosts without cycles)',
    ],
  },
  {
    name: 'port published twice on a host',
    edits: { 'stacks/app.yaml': replace('ports: ["8080:80"]', 'ports: ["11434:80"]') },
    codes: ['port-conflict'],
    expected: [
      'stacks/ollama.yaml:7:13 services.ollama.ports[0]: host "alpha" already publishes tcp port 11434 for service "app" (allowed one service per published port on a host, got 11434/tcp)',
    ],
  },
  {
    name: 'replicas sharing a fixed host port',
    edits: {
      'stacks/app.yaml': replace(
        'ports: ["8080:80"]',
        'ports: ["9000", "127.0.0.1:8080:80"]\n    deploy: { replicas: 2 }',
      ),
    },
    codes: ['replica-port'],
    expected: [
      'stacks/app.yaml:14:21 services.app.ports[1]: 2 replicas on host "alpha" cannot share host port 8080 (allowed a container-only port (no host port), or a host port range with one port per replica (8080-8081), got "127.0.0.1:8080:80")',
    ],
  },
  {
    name: 'replicas set by an override, with a port range narrower than them',
    edits: {
      'stacks/db.yaml': replace(
        '        - tcp: { port: 5432 }',
        '        - tcp: { port: 5432 }\n      overrides:\n        - on: { hosts: [gamma] }\n          set: { deploy: { replicas: 3 }, ports: ["5432-5433:5432"] }',
      ),
    },
    codes: ['replica-port'],
    expected: [
      'stacks/db.yaml:17:51 services.db.x-ai-platform.overrides[0].set.ports[0]: 3 replicas on host "gamma" cannot share host ports 5432-5433 (allowed a container-only port (no host port), or a host port range with one port per replica (5432-5434), got "5432-5433:5432")',
    ],
  },
  {
    name: 'a rolling update on a one-shot service',
    edits: {
      'stacks/app.yaml': replace(
        '      requires: [db, ollama]',
        '      requires: [db, ollama]\n      oneshot: true\n      rollout: { batch: 2 }',
      ),
    },
    codes: ['rollout-oneshot'],
    expected: [
      'stacks/app.yaml:18:7 services.app.x-ai-platform.rollout: a one-shot service runs to completion: it has no replicas to roll (allowed rollout on a long-running service (oneshot: false))',
    ],
  },
  {
    name: 'an Ollama keep_alive Ollama cannot read',
    edits: {
      'inventory/hosts.yaml': replace(
        'hardware: { gpu: { vendor: nvidia, count: 1, vram_gb: 12 } }',
        'hardware: { gpu: { vendor: nvidia, count: 1, vram_gb: 12 } }\n    ollama: { keep_alive: 10 minutes }',
      ),
    },
    codes: ['schema'],
    expected: [
      'inventory/hosts.yaml:6:27 hosts.alpha.ollama.keep_alive: has a value that is not allowed (allowed a duration like 10m, 1h30m or 300 (seconds), 0 (unload at once) or -1 (keep loaded), got "10 minutes")',
    ],
  },
  {
    name: 'a GPU node whose loaded models and GPU services need more VRAM than it has',
    edits: {
      'inventory/platform.yaml': replace(
        '{ name: small, placement: { gpu: nvidia } }',
        '{ name: small, placement: { gpu: nvidia }, size_gb: 7.5 }',
      ),
      'stacks/ollama.yaml': replace('      gpu: { count: all }', '      gpu: { count: all, vram_gb: 5 }'),
    },
    codes: ['vram-budget'],
    expected: [
      'inventory/hosts.yaml:5:59 hosts.alpha.hardware.gpu.vram_gb: host "alpha" has 12 GB of VRAM (1 x 12 GB), but needs 12.5 GB: the largest model small 7.5 GB + services ollama 5 GB (allowed at most 12 GB: fewer or smaller models, a lower ollama.max_loaded_models, or GPU services elsewhere or on demand, got 12.5 GB)',
    ],
  },
  {
    name: 'max_loaded_models counts that many of the largest models; on-demand GPU services are a warning',
    edits: {
      'inventory/platform.yaml': replace(
        '{ name: small, placement: { gpu: nvidia } }',
        '{ name: small, placement: { gpu: nvidia }, size_gb: 4 }\n  - { name: tiny, placement: { gpu: nvidia }, size_gb: 2 }',
      ),
      'inventory/hosts.yaml': replace(
        'hardware: { gpu: { vendor: nvidia, count: 1, vram_gb: 12 } }',
        'hardware: { gpu: { vendor: nvidia, count: 1, vram_gb: 12 } }\n    ollama: { max_loaded_models: 2 }',
      ),
      'stacks/ollama.yaml': replace(
        '          set: { image: "ollama/ollama:0.5.7-rocm" }',
        '          set: { image: "ollama/ollama:0.5.7-rocm" }\n  painter:\n    image: example/painter:1\n    x-ai-platform:\n      tier: on-demand\n      gpu: { count: 1, vram_gb: 8 }',
      ),
    },
    codes: ['vram-on-demand'],
    expected: [
      'inventory/hosts.yaml:5:59 warning: hosts.alpha.hardware.gpu.vram_gb: host "alpha" has 12 GB of VRAM (1 x 12 GB): the 2 largest models (max_loaded_models) small 4 GB + tiny 2 GB (6 GB) leaves 6 GB for its on-demand GPU services; painter 8 GB cannot start while the rest runs',
    ],
  },
  {
    name: 'a single-host stack placed on several hosts',
    edits: { 'stacks/ollama.yaml': replace('  phase: ai\n', '  phase: ai\n  single_host: true\n') },
    codes: ['single-host'],
    expected: [
      'stacks/ollama.yaml:2:14 x-ai-platform.placement: single_host: the stack forms one cluster, but its placement selects 2 hosts (alpha, beta): each would run a cluster of its own (allowed a placement that selects exactly one host)',
    ],
  },
  {
    name: 'a service phase outside the three',
    edits: {
      'stacks/ollama.yaml': replace('      gpu: { count: all }', '      gpu: { count: all }\n      phase: models'),
    },
    codes: ['schema'],
    expected: [
      'stacks/ollama.yaml:10:14 services.ollama.x-ai-platform.phase: must be one of infra, ai, monitor (got "models")',
    ],
  },
  {
    name: 'an external model given a placement, and one named in a host list',
    edits: {
      'inventory/platform.yaml': replace(
        '  - { name: small, placement: { gpu: nvidia } }',
        '  - { name: small, placement: { gpu: nvidia } }\n  - { name: gpt, placement: { gpu: nvidia }, provider: { name: openai, model: gpt-4o-mini, key_secret: API_KEY } }',
      ),
      'inventory/hosts.yaml': replace('    address: 10.0.0.3', '    address: 10.0.0.3\n    models: [gpt]'),
    },
    codes: ['provider-placed', 'provider-placed'],
    expected: [
      'inventory/platform.yaml:9:18 models[1].placement: served by openai: no Ollama node serves it, so it takes no placement',
      'inventory/hosts.yaml:12:14 hosts.gamma.models[0]: "gpt" is served by openai, not by this host\'s Ollama (got "gpt")',
    ],
  },
  {
    name: "an external model's key: not declared, or passed to no service",
    edits: {
      'inventory/platform.yaml': (text) =>
        replace(
          '  - { name: small, placement: { gpu: nvidia } }',
          '  - { name: small, placement: { gpu: nvidia } }\n  - { name: gpt, provider: { name: openai, model: gpt-4o-mini, key_secret: OPENAI_KEY } }\n  - { name: claude, provider: { name: anthropic, model: claude-3-5-haiku, key_secret: CLAUDE_KEY } }',
        )(replace('    API_KEY: { prefix: sk- }', '    API_KEY: { prefix: sk- }\n    CLAUDE_KEY: {}')(text)),
    },
    codes: ['provider-key', 'provider-key'],
    expected: [
      'inventory/platform.yaml:10:76 models[1].provider.key_secret: not a declared secret (allowed a name under platform.secrets (DB_PASSWORD, API_KEY, CLAUDE_KEY), got "OPENAI_KEY")',
      "inventory/platform.yaml:11:87 models[2].provider.key_secret: no placed service passes CLAUDE_KEY in its environment: LiteLLM reads the key as os.environ/CLAUDE_KEY (allowed CLAUDE_KEY: ${CLAUDE_KEY} in the LiteLLM service's environment)",
    ],
  },
  {
    name: 'Alertmanager receivers: two kinds in one, none, a taken name',
    edits: {
      'inventory/platform.yaml': replace(
        '    API_KEY: { prefix: sk- }',
        '    API_KEY: { prefix: sk- }\n  alerts:\n    receivers:\n      - { name: ops, webhook: { url: "http://hook.lab.test/a" }, ntfy: { topic: ops } }\n      - { name: ops }\n      - { name: none, ntfy: { topic: lab } }',
      ),
    },
    codes: ['alert-receiver', 'alert-receiver', 'alert-receiver', 'alert-receiver'],
    expected: [
      'inventory/platform.yaml:9:9 platform.alerts.receivers[0]: is more than one receiver (allowed exactly one of webhook, ntfy, email (list another receiver for another destination), got webhook and ntfy)',
      'inventory/platform.yaml:10:17 platform.alerts.receivers[1].name: a second receiver with this name (allowed a name of its own, got "ops")',
      'inventory/platform.yaml:10:9 platform.alerts.receivers[1]: says nowhere to send alerts (allowed exactly one of webhook, ntfy, email (list another receiver for another destination), got none)',
      'inventory/platform.yaml:11:17 platform.alerts.receivers[2].name: "none" is the receiver of alerts no route sends anywhere (templates/alertmanager) (allowed a name of its own, got "none")',
    ],
  },
  {
    name: 'Alertmanager receivers: a secret that is not declared, one no service is given',
    edits: {
      'inventory/platform.yaml': replace(
        '    API_KEY: { prefix: sk- }',
        '    API_KEY: { prefix: sk- }\n    SMTP_PASSWORD: {}\n  alerts:\n    receivers:\n      - { name: ops, ntfy: { topic: ops, token_secret: NTFY_TOKEN } }\n      - name: mail\n        email: { to: a@lab.test, from: b@lab.test, smarthost: "mail.lab.test:587", password_secret: SMTP_PASSWORD }',
      ),
    },
    codes: ['secret-file', 'secret-file'],
    expected: [
      'inventory/platform.yaml:10:56 platform.alerts.receivers[0].ntfy.token_secret: not a declared secret (allowed a name under platform.secrets (API_KEY, DB_PASSWORD, SMTP_PASSWORD), got "NTFY_TOKEN")',
      "inventory/platform.yaml:12:101 platform.alerts.receivers[1].email.password_secret: no placed service passes SMTP_PASSWORD in its environment: Alertmanager reads it from /run/secrets/SMTP_PASSWORD, written from its environment at start (allowed SMTP_PASSWORD: ${SMTP_PASSWORD} in the Alertmanager service's environment)",
    ],
  },
  {
    name: "a scrape's bearer secret that is not declared",
    edits: {
      'stacks/app.yaml': replace(
        '      route: { name: app, port: 8080 }',
        '      route: { name: app, port: 8080 }\n      metrics: { port: 8080, bearer_secret: APP_TOKEN }',
      ),
    },
    codes: ['secret-file'],
    expected: [
      'stacks/app.yaml:18:45 services.app.x-ai-platform.metrics.bearer_secret: not a declared secret (allowed a name under platform.secrets (API_KEY, DB_PASSWORD), got "APP_TOKEN")',
    ],
  },
  {
    name: 'a rolling update: a fixed host port, and no healthcheck to tell when new replicas serve',
    edits: {
      'stacks/app.yaml': replace(
        '      requires: [db, ollama]',
        '      requires: [db, ollama]\n      rollout: { batch: 1 }',
      ),
    },
    codes: ['rollout-oneshot', 'replica-port'],
    expected: [
      'stacks/app.yaml:17:7 services.app.x-ai-platform.rollout: a rolling update removes old replicas once the new ones are healthy: the service needs a Docker healthcheck to tell (allowed rollout on a service that declares a healthcheck)',
      'stacks/app.yaml:14:13 services.app.ports[0]: 1 replica rolled 1 at a time (up to 2 containers) on host "alpha" cannot share host port 8080 (allowed a container-only port (no host port), or a host port range with one port per container (8080-8081), got "8080:80")',
    ],
  },
  {
    name: "a rolling update on the host's network",
    edits: {
      'stacks/app.yaml': (text) =>
        replace(
          '      requires: [db, ollama]',
          '      requires: [db, ollama]\n      rollout: { batch: 2 }',
        )(
          replace('    ports: ["8080:80"]', '    network_mode: host\n    healthcheck: { test: ["CMD", "true"] }')(text),
        ),
    },
    codes: ['replica-port'],
    expected: [
      'stacks/app.yaml:14:19 services.app.network_mode: a rolling update runs new containers beside the old ones, which cannot share the host\'s network (allowed a bridge network (no network_mode: host) with rollout, got "host")',
    ],
  },
  {
    name: "OLLAMA_MAX_LOADED_MODELS in the Ollama service's environment counts that many models",
    edits: {
      'inventory/platform.yaml': replace(
        '{ name: small, placement: { gpu: nvidia } }',
        '{ name: small, placement: { gpu: nvidia }, size_gb: 7 }\n  - { name: other, placement: { gpu: nvidia }, size_gb: 6 }',
      ),
      'stacks/ollama.yaml': replace(
        '    ports: ["11434:11434"]',
        '    ports: ["11434:11434"]\n    environment: { OLLAMA_MAX_LOADED_MODELS: "2" }',
      ),
    },
    codes: ['vram-budget'],
    expected: [
      'inventory/hosts.yaml:5:59 hosts.alpha.hardware.gpu.vram_gb: host "alpha" has 12 GB of VRAM (1 x 12 GB), but needs 13 GB: the 2 largest models (max_loaded_models) small 7 GB + other 6 GB (allowed at most 12 GB: fewer or smaller models, a lower ollama.max_loaded_models, or GPU services elsewhere or on demand, got 13 GB)',
    ],
  },
  {
    name: 'GPU service on a host without a GPU',
    edits: { 'stacks/ollama.yaml': replace('tags: [gpu]', 'tags: [gpu, db]') },
    codes: ['gpu-missing'],
    expected: [
      'stacks/ollama.yaml:9:12 services.ollama.x-ai-platform.gpu: needs a GPU, but host "gamma" has none (allowed hosts with hardware.gpu, got gamma)',
    ],
  },
  {
    name: 'GPU vendor mismatch',
    edits: { 'stacks/ollama.yaml': replace('gpu: { count: all }', 'gpu: { count: all, vendor: nvidia }') },
    codes: ['gpu-vendor'],
    expected: [
      'stacks/ollama.yaml:9:34 services.ollama.x-ai-platform.gpu.vendor: needs an nvidia GPU, but host "beta" has amd (allowed nvidia, got amd)',
    ],
  },
  {
    name: 'more GPUs than the host has',
    edits: { 'stacks/ollama.yaml': replace('gpu: { count: all }', 'gpu: { count: 2 }') },
    codes: ['gpu-count'],
    expected: [
      'stacks/ollama.yaml:9:21 services.ollama.x-ai-platform.gpu.count: needs 2 GPUs, but host "alpha" has 1 (got 2)',
    ],
  },
  {
    name: 'secret used but not declared',
    edits: { 'stacks/db.yaml': replace('POSTGRES_PASSWORD: ${DB_PASSWORD}', 'POSTGRES_PASSWORD: ${DB_PASWORD}') },
    codes: ['undeclared-secret'],
    expected: [
      'stacks/db.yaml:8:26 services.db.environment.POSTGRES_PASSWORD: uses ${DB_PASWORD}, which is not a declared secret (allowed DB_PASSWORD, API_KEY (platform.secrets), or ${DB_PASWORD:-default}, got DB_PASWORD)',
    ],
  },
  {
    name: 'duplicate host across files',
    edits: { 'inventory/more.yaml': 'hosts:\n  gamma:\n    address: 10.0.0.9\n' },
    codes: ['duplicate-host'],
    expected: ['inventory/more.yaml:2:3 hosts.gamma: duplicate host name: already defined in inventory/hosts.yaml'],
  },
  {
    name: 'duplicate service across stacks',
    edits: {
      'stacks/copy.yaml':
        'x-ai-platform:\n  placement: { hosts: [gamma] }\n  phase: infra\nservices:\n  db:\n    image: postgres:16\n',
    },
    codes: ['duplicate-service'],
    expected: ['stacks/db.yaml:5:3 services.db: duplicate service name: already defined in stacks/copy.yaml'],
  },
  {
    name: 'duplicate model',
    edits: { 'inventory/more.yaml': 'models:\n  - { name: small }\n' },
    codes: ['duplicate-model'],
    expected: [
      'inventory/platform.yaml:8:13 models[0].name: duplicate model: already declared in inventory/more.yaml (got "small")',
    ],
  },
  {
    name: 'platform defined twice',
    edits: { 'inventory/more.yaml': 'platform:\n  name: other\n' },
    codes: ['duplicate-platform'],
    expected: ['inventory/platform.yaml:1:1 platform: platform is already defined in inventory/more.yaml'],
  },
  {
    name: 'no platform block',
    edits: { 'inventory/platform.yaml': 'models: []\n', 'stacks/app.yaml': null },
    codes: ['no-platform'],
    expected: [
      'inventory/hosts.yaml:1:1 platform: no platform block in any inventory file (allowed platform: {name: ...} in one file)',
    ],
  },
  {
    name: 'mount of an export the NAS lacks',
    edits: {
      'inventory/hosts.yaml': replace(
        '    tags: [db]',
        '    tags: [db]\n    mounts: { models: { path: /mnt/models } }',
      ),
    },
    codes: ['unknown-export'],
    expected: [
      'inventory/hosts.yaml:13:15 hosts.gamma.mounts.models: mounts an export the NAS does not have (allowed none (platform.nas.exports is empty), got "models")',
    ],
  },
  {
    name: 'two writers on one export',
    edits: {
      'inventory/platform.yaml': replace(
        '  domain: lab.test',
        '  domain: lab.test\n  nas: { exports: { models: /tank/models } }',
      ),
      'inventory/hosts.yaml': (t) =>
        t
          .replace(
            '    tags: [gpu]\n    hardware: { gpu: { vendor: nvidia',
            '    tags: [gpu]\n    mounts: { models: { path: /mnt/models, mode: rw } }\n    hardware: { gpu: { vendor: nvidia',
          )
          .replace(
            '    tags: [gpu]\n    hardware: { gpu: { vendor: amd',
            '    tags: [gpu]\n    mounts: { models: { path: /mnt/models, mode: rw } }\n    hardware: { gpu: { vendor: amd',
          ),
    },
    codes: ['export-writers'],
    expected: [
      'inventory/hosts.yaml:10:50 hosts.beta.mounts.models.mode: export "models" already has a writer (alpha); concurrent writers corrupt a shared model store (allowed one host with mode rw per export, got alpha, beta)',
    ],
  },
  {
    name: 'gfx_version on an NVIDIA GPU',
    edits: {
      'inventory/hosts.yaml': replace(
        'vendor: nvidia, count: 1, vram_gb: 12',
        'vendor: nvidia, count: 1, vram_gb: 12, gfx_version: 10.3.0',
      ),
    },
    codes: ['amd-only'],
    expected: [
      'inventory/hosts.yaml:5:63 hosts.alpha.hardware.gpu.gfx_version: gfx_version applies to AMD GPUs only (got vendor nvidia)',
    ],
  },
  {
    name: 'video_gid on an NVIDIA GPU',
    edits: {
      'inventory/hosts.yaml': replace(
        'vendor: nvidia, count: 1, vram_gb: 12',
        'vendor: nvidia, count: 1, vram_gb: 12, video_gid: 44',
      ),
    },
    codes: ['amd-only'],
    expected: [
      'inventory/hosts.yaml:5:63 hosts.alpha.hardware.gpu.video_gid: video_gid applies to AMD GPUs only (got vendor nvidia)',
    ],
  },
  {
    name: 'video_gid not a number',
    edits: {
      'inventory/hosts.yaml': replace(
        'vendor: amd, count: 2, vram_gb: 24',
        'vendor: amd, count: 2, vram_gb: 24, video_gid: video',
      ),
    },
    codes: ['schema'],
    expected: ['inventory/hosts.yaml:9:71 hosts.beta.hardware.gpu.video_gid: must be an integer (got "video")'],
  },
  {
    name: 'unknown model on a host',
    edits: { 'inventory/hosts.yaml': replace('    address: 10.0.0.1', '    address: 10.0.0.1\n    models: [smal]') },
    codes: ['unknown-model'],
    expected: [
      'inventory/hosts.yaml:4:14 hosts.alpha.models[0]: unknown model: declare it under models: (allowed small, big:70b, got "smal")',
    ],
  },
  {
    name: 'model on a host without Ollama',
    edits: { 'inventory/hosts.yaml': replace('    tags: [db]', '    tags: [db]\n    models: [small]') },
    codes: ['no-ollama'],
    expected: [
      'inventory/hosts.yaml:13:14 hosts.gamma.models[0]: this host runs no Ollama service to serve the model (got "small")',
    ],
  },
  {
    name: 'model placed on a host without Ollama',
    edits: { 'inventory/platform.yaml': replace('placement: { gpu: nvidia }', 'placement: { hosts: [alpha, gamma] }') },
    codes: ['no-ollama'],
    expected: [
      'inventory/platform.yaml:8:31 models[0].placement: places the model on "gamma", which runs no Ollama service (allowed alpha, beta, got gamma)',
    ],
  },
  {
    name: 'unknown fallback model',
    edits: { 'inventory/platform.yaml': replace('fallbacks: [small]', 'fallbacks: [tiny]') },
    codes: ['unknown-model'],
    expected: [
      'inventory/platform.yaml:9:68 models[1].fallbacks[0]: unknown model (allowed small, big:70b, got "tiny")',
    ],
  },
  {
    name: 'bind mount climbing out',
    edits: {
      'stacks/db.yaml': replace(
        '    ports: ["5432:5432"]',
        '    ports: ["5432:5432"]\n    volumes: ["./../../etc:/host-etc"]',
      ),
    },
    codes: ['bind-escape'],
    expected: [
      'stacks/db.yaml:10:15 services.db.volumes[0]: bind mount source must not climb out with .. (allowed an absolute path, or ./path inside the host base directory, got "./../../etc")',
    ],
  },
  {
    name: 'bind mount climbing out in an override',
    edits: {
      'stacks/db.yaml': replace(
        '        - tcp: { port: 5432 }',
        '        - tcp: { port: 5432 }\n      overrides:\n        - on: { tags: [db] }\n          set: { volumes: ["/data:/data", "./x/../../../etc:/host-etc"] }',
      ),
    },
    codes: ['bind-escape'],
    expected: [
      'stacks/db.yaml:17:43 services.db.x-ai-platform.overrides[0].set.volumes[1]: bind mount source must not climb out with .. (allowed an absolute path, or ./path inside the host base directory, got "./x/../../../etc")',
    ],
  },
  {
    name: 'no such template',
    edits: { 'stacks/app.yaml': replace('template: app.conf.hbs', 'template: app.cfg.hbs') },
    codes: ['unknown-template'],
    expected: [
      'stacks/app.yaml:5:19 x-ai-platform.files[0].template: no such template in templates/ (got "app.cfg.hbs")',
    ],
  },
  {
    name: 'template: missing variable',
    edits: { 'templates/app.conf.hbs': replace('backend {{url}}', 'backend {{url}} weight {{weight}}') },
    codes: ['render'],
    expected: [
      'templates/app.conf.hbs:3:26 missing variable "weight" (rendering for host alpha) (allowed variables under platform, hosts, fleet, services, ollama, litellm, prometheus, routes, on_demand_page, databases, alerts, host)',
    ],
  },
  {
    name: 'template: syntax error',
    edits: { 'templates/app.conf.hbs': replace('{{/each}}', '{{/eahc}}') },
    codes: ['template-syntax'],
    expected: ["templates/app.conf.hbs:2:4 template syntax error: each doesn't match eahc"],
  },
  {
    name: 'template: unknown helper',
    edits: { 'templates/app.conf.hbs': replace('{{url}}', '{{upper url}}') },
    codes: ['template-syntax'],
    expected: ['templates/app.conf.hbs:3:9 unknown helper (allowed json, join, eq, ne, or, not, length, got upper)'],
  },
  {
    name: 'stack value: missing variable',
    edits: { 'stacks/app.yaml': replace('{{services.db.address}}', '{{services.cache.address}}') },
    codes: ['render'],
    expected: [
      'stacks/app.yaml:10:15 services.app.environment.DB_URL: missing variable "services.cache.address" (allowed variables under platform, hosts, fleet, services, ollama, litellm, prometheus, routes, on_demand_page, databases, alerts, host)',
    ],
  },
  {
    name: 'stack value: file not rendered here',
    edits: { 'stacks/app.yaml': replace("{{file 'app/app.conf'}}", "{{file 'app/other.conf'}}") },
    codes: ['render'],
    expected: [
      'stacks/app.yaml:13:9 services.app.volumes[0]: no stack on host alpha renders app/other.conf (allowed app/app.conf, got "app/other.conf")',
    ],
  },
  {
    name: 'two stacks write one path',
    edits: {
      'stacks/ollama.yaml': replace(
        '  phase: ai\n',
        '  phase: ai\n  files:\n    - { template: app.conf.hbs, path: app/app.conf }\n',
      ),
    },
    codes: ['render'],
    expected: [
      'stacks/ollama.yaml:5:39 x-ai-platform.files[0].path: host "alpha" already gets a file at this path from another stack (got "app/app.conf")',
    ],
  },
  {
    name: 'volume defined differently by two stacks',
    edits: {
      'stacks/app.yaml': (t) => `${t}volumes:\n  cache: { driver: local }\n`,
      'stacks/ollama.yaml': (t) => `${t}volumes:\n  cache: { driver: nfs }\n`,
    },
    codes: ['render'],
    expected: [
      'stacks/ollama.yaml:16:10 volumes.cache: volume "cache" is defined differently by another stack on host "alpha"',
    ],
  },
  {
    name: 'override sets x-ai-platform',
    edits: {
      'stacks/ollama.yaml': replace(
        'set: { image: "ollama/ollama:0.5.7-rocm" }',
        'set: { image: "ollama/ollama:0.5.7-rocm", x-ai-platform: {} }',
      ),
    },
    codes: ['override-meta'],
    expected: [
      'stacks/ollama.yaml:14:53 services.ollama.x-ai-platform.overrides[0].set.x-ai-platform: overrides set Compose keys only',
    ],
  },
  {
    name: 'override selects an unknown host',
    edits: { 'stacks/ollama.yaml': replace('on: { gpu: amd }', 'on: { hosts: [hades] }') },
    codes: ['unknown-host'],
    expected: [
      'stacks/ollama.yaml:13:25 services.ollama.x-ai-platform.overrides[0].on.hosts[0]: unknown host (allowed alpha, beta, gamma, got "hades")',
    ],
  },
  {
    name: 'secret used in an override only',
    edits: {
      'stacks/ollama.yaml': replace(
        'set: { image: "ollama/ollama:0.5.7-rocm" }',
        'set: { image: "ollama/ollama:0.5.7-rocm", environment: { TOKEN: "${ROCM_TOKEN}" } }',
      ),
    },
    codes: ['undeclared-secret'],
    expected: [
      'stacks/ollama.yaml:14:75 services.ollama.x-ai-platform.overrides[0].set.environment.TOKEN: uses ${ROCM_TOKEN}, which is not a declared secret (allowed DB_PASSWORD, API_KEY (platform.secrets), or ${ROCM_TOKEN:-default}, got ROCM_TOKEN)',
    ],
  },
  {
    name: 'a dollar Compose cannot interpolate',
    edits: { 'stacks/db.yaml': replace('POSTGRES_PASSWORD: ${DB_PASSWORD}', 'POSTGRES_PASSWORD: "pw$(id)"') },
    codes: ['bad-dollar'],
    expected: [
      'stacks/db.yaml:8:26 services.db.environment.POSTGRES_PASSWORD: has a $ that Compose cannot interpolate (allowed ${NAME}, $NAME, or $$ for a literal dollar, got "pw$(id)")',
    ],
  },
  {
    name: 'an image reference Docker refuses',
    edits: { 'stacks/db.yaml': replace('image: postgres:16-alpine', 'image: "a;b"') },
    codes: ['image-reference'],
    expected: [
      "stacks/db.yaml:6:12 services.db.image: not an image reference Docker accepts: the path component \"a;b\" is not allowed (allowed lowercase letters and digits with '.', '_', '__' or '-' between them, components joined by '/', got \"a;b\")",
    ],
  },
  {
    name: 'an image with an uppercase repository',
    edits: { 'stacks/app.yaml': replace('image: example/app:1', 'image: Example/app:1') },
    codes: ['image-reference'],
    expected: [
      "stacks/app.yaml:8:12 services.app.image: not an image reference Docker accepts: the path component \"Example\" has uppercase letters (allowed lowercase letters and digits with '.', '_', '__' or '-' between them, components joined by '/'; a registry host is written with a '.' or a ':port', or is localhost, got \"Example/app:1\")",
    ],
  },
  {
    name: 'an image tag with a space, in an override',
    edits: {
      'stacks/ollama.yaml': replace(
        'set: { image: "ollama/ollama:0.5.7-rocm" }',
        'set: { image: "ollama/ollama:0.5.7 rocm" }',
      ),
    },
    codes: ['image-reference'],
    expected: [
      "stacks/ollama.yaml:14:25 services.ollama.x-ai-platform.overrides[0].set.image: not an image reference Docker accepts: the tag \"0.5.7 rocm\" is not allowed (allowed 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-', got \"ollama/ollama:0.5.7 rocm\")",
    ],
  },
  {
    name: 'an image digest that is too short',
    edits: { 'stacks/db.yaml': replace('image: postgres:16-alpine', 'image: postgres@sha256:abc123') },
    codes: ['image-reference'],
    expected: [
      'stacks/db.yaml:6:12 services.db.image: not an image reference Docker accepts: the digest "sha256:abc123" after \'@\' is not one Docker can verify (allowed sha256: and 64 lowercase hex digits, sha384: and 96, or sha512: and 128, got "postgres@sha256:abc123")',
    ],
  },
  {
    name: 'a {{...}} image that renders to a reference Docker refuses',
    edits: {
      'stacks/app.yaml': replace('image: example/app:1', 'image: "{{platform.image_registry}}/App:1"'),
      'inventory/platform.yaml': replace(
        '  domain: lab.test',
        '  domain: lab.test\n  image_registry: registry.lab.test:5000',
      ),
    },
    codes: ['render'],
    expected: [
      "stacks/app.yaml:8:12 services.app.image: not an image reference Docker accepts: the path component \"App\" has uppercase letters (rendered for host alpha) (allowed lowercase letters and digits with '.', '_', '__' or '-' between them, components joined by '/'; a registry host is written with a '.' or a ':port', or is localhost, got \"registry.lab.test:5000/App:1\")",
    ],
  },
  {
    name: 'a {{...}} image whose variable is unset',
    edits: {
      'stacks/ollama.yaml': replace(
        'set: { image: "ollama/ollama:0.5.7-rocm" }',
        'set: { image: "{{platform.image_registry}}/ollama:rocm" }',
      ),
    },
    codes: ['render'],
    expected: [
      "stacks/ollama.yaml:14:25 services.ollama.x-ai-platform.overrides[0].set.image: not an image reference Docker accepts: the path \"/ollama\" has an empty component (rendered for host beta) (allowed lowercase letters and digits with '.', '_', '__' or '-' between them, components joined by '/', got \"/ollama:rocm\")",
    ],
  },
  {
    name: 'a number no compose file can hold',
    edits: {
      'stacks/db.yaml': replace(
        '      POSTGRES_PASSWORD: ${DB_PASSWORD}',
        '      POSTGRES_PASSWORD: ${DB_PASSWORD}\n      RATIO: .inf\n      LIMIT: -.Inf\n      SCALE: .NaN',
      ),
    },
    codes: ['non-finite-number', 'non-finite-number', 'non-finite-number'],
    expected: [
      'stacks/db.yaml:9:14 services.db.environment.RATIO: is not a finite number (allowed a finite number, or a quoted string such as ".inf", got .inf)',
      'stacks/db.yaml:10:14 services.db.environment.LIMIT: is not a finite number (allowed a finite number, or a quoted string such as ".inf", got -.inf)',
      'stacks/db.yaml:11:14 services.db.environment.SCALE: is not a finite number (allowed a finite number, or a quoted string such as ".inf", got .nan)',
    ],
  },
  {
    name: 'no hosts',
    edits: { 'inventory/hosts.yaml': 'hosts: {}\n' },
    codes: ['no-hosts'],
    expected: ['inventory/hosts.yaml:1:1 hosts: the inventory defines no hosts'],
  },
  {
    name: 'max_unavailable_hosts: zero hosts at a time',
    edits: { 'stacks/ollama.yaml': replace('  phase: ai\n', '  phase: ai\n  max_unavailable_hosts: 0\n') },
    codes: ['schema'],
    expected: ['stacks/ollama.yaml:4:26 x-ai-platform.max_unavailable_hosts: must be >= 1 (got 0)'],
  },
  {
    name: 'max_unavailable_hosts: a fraction',
    edits: { 'stacks/ollama.yaml': replace('  phase: ai\n', '  phase: ai\n  max_unavailable_hosts: 1.5\n') },
    codes: ['schema'],
    expected: ['stacks/ollama.yaml:4:26 x-ai-platform.max_unavailable_hosts: must be an integer (got 1.5)'],
  },
  {
    name: 'a stack written as both .yaml and .yml',
    edits: {
      'stacks/db.yml':
        'x-ai-platform:\n  placement: { hosts: [gamma] }\n  phase: infra\nservices:\n  cache:\n    image: redis:7\n',
    },
    codes: ['duplicate-stack'],
    expected: ['stacks/db.yml:1:1 duplicate stack name "db" (stacks/db.yaml and .yml)'],
  },
  {
    name: 'bytes that are not UTF-8',
    edits: { 'stacks/db.yaml': Buffer.from([0x78, 0x3a, 0x20, 0xff, 0x0a]) },
    codes: ['not-utf8'],
    expected: ['stacks/db.yaml:1:4 file is not valid UTF-8 (allowed UTF-8 text, got an invalid byte sequence)'],
  },
  {
    name: 'a YAML tag the parser does not know',
    edits: { 'inventory/hosts.yaml': replace('    tags: [db]', '    tags: [db]\n    description: !custom text') },
    codes: ['yaml-warning'],
    expected: ['inventory/hosts.yaml:13:18 warning: Unresolved tag: !custom'],
  },
  {
    name: 'the Compose version key is obsolete',
    edits: { 'stacks/db.yaml': (t) => `version: "3.8"\n${t}` },
    codes: ['obsolete-version'],
    expected: ['stacks/db.yaml:1:1 warning: version: the Compose `version` key is obsolete and is ignored'],
  },
]
