// Monitoring's secrets as files. Alertmanager's receivers from the inventory (platform.alerts.receivers):
// the rendered alertmanager.yml routes every alert to each receiver and names secrets only as files;
// so does Prometheus's job for a scrape with a bearer secret (Qdrant). The entrypoint of the reference's
// Alertmanager and Prometheus (stacks/monitoring.yaml) writes those files from the container's
// environment, byte for byte, before it starts the binary with the command's arguments.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { renderHost } from '../../../src/render/render.js'
import { formatIssue } from '../../../src/errors.js'
import { validateProject } from '../../../src/validate/validate.js'
import { loadOk } from '../../helpers/load.js'
import { projectFrom, REPO, removeProject } from '../../helpers/project.js'

async function moros() {
  const { project } = await loadOk()
  const { render, issues } = renderHost(project, 'moros')
  expect(issues).toEqual([])
  const file = render!.files.find((f) => f.path.endsWith('/alertmanager/alertmanager.yml'))!
  return { project, render: render!, config: parse(file.content) as Record<string, any>, text: file.content }
}

describe('Alertmanager receivers', () => {
  it('routes every alert to each receiver of the inventory, in its order, and keeps on to the next', async () => {
    const { project, config } = await moros()
    const names = project.platform.alertReceivers.map((r) => r.name)
    expect(names.length).toBeGreaterThan(0)
    expect(config.route.receiver).toBe('none')
    expect(config.route.routes).toEqual(names.map((receiver) => ({ receiver, continue: true })))
    expect(config.receivers.map((r: { name: string }) => r.name)).toEqual(['none', ...names])
  })

  it('renders each kind from its inventory fields, secrets as files under /run/secrets', async () => {
    const { project, config } = await moros()
    for (const receiver of project.platform.alertReceivers) {
      const out = config.receivers.find((r: { name: string }) => r.name === receiver.name)
      if (receiver.email) {
        expect(out.email_configs).toEqual([
          {
            to: receiver.email.to,
            from: receiver.email.from,
            smarthost: receiver.email.smarthost,
            require_tls: receiver.email.requireTls,
            send_resolved: receiver.sendResolved,
            ...(receiver.email.username ? { auth_username: receiver.email.username } : {}),
            ...(receiver.email.passwordSecret
              ? { auth_password_file: `/run/secrets/${receiver.email.passwordSecret}` }
              : {}),
          },
        ])
      }
      if (receiver.ntfy) {
        const [hook] = out.webhook_configs
        const url = new URL(hook.url)
        expect(`${url.origin}${url.pathname}`).toBe(`${receiver.ntfy.url}/${receiver.ntfy.topic}`)
        // ntfy's templating over Alertmanager's webhook JSON: Go templates, kept out of Handlebars' way
        expect(url.searchParams.get('tpl')).toBe('1')
        expect(url.searchParams.get('t')).toBe('[{{.status}}] {{.commonLabels.alertname}}')
        expect(url.searchParams.get('m')).toContain('{{range .alerts}}')
        if (receiver.ntfy.tokenSecret)
          expect(hook.http_config.authorization.credentials_file).toBe(`/run/secrets/${receiver.ntfy.tokenSecret}`)
      }
    }
  })

  it('passes each receiver secret to the Alertmanager container by name, never by value', async () => {
    const { project, render, text } = await moros()
    const compose = parse(render.compose.content) as { services: Record<string, any> }
    const secrets = project.platform.alertReceivers.flatMap((r) =>
      [r.webhook?.bearerSecret, r.ntfy?.tokenSecret, r.email?.passwordSecret].filter((s) => s !== undefined),
    )
    expect(secrets.length).toBeGreaterThan(0)
    for (const name of secrets) {
      expect(compose.services.alertmanager.environment[name]).toBe(`\${${name}}`)
      expect(render.secrets).toContain(name)
    }
    expect(text).not.toMatch(/password:|bearer_token:|credentials:/)
  })

  it('a webhook with a bearer token, and none at all', async () => {
    const edit = (receivers: unknown[]) => async () => {
      const { project } = await loadOk()
      const changed = {
        ...project,
        platform: { ...project.platform, alertReceivers: receivers as typeof project.platform.alertReceivers },
      }
      const { render } = renderHost(changed, 'moros')
      const file = render!.files.find((f) => f.path.endsWith('/alertmanager/alertmanager.yml'))!
      return parse(file.content) as Record<string, any>
    }
    const hook = await edit([
      { name: 'relay', sendResolved: false, webhook: { url: 'http://relay.lab:9000/a?x=1&y=2', bearerSecret: 'T' } },
    ])()
    expect(hook.receivers[1]).toEqual({
      name: 'relay',
      webhook_configs: [
        {
          url: 'http://relay.lab:9000/a?x=1&y=2',
          send_resolved: false,
          http_config: { authorization: { credentials_file: '/run/secrets/T' } },
        },
      ],
    })
    const none = await edit([])()
    expect(none.route).not.toHaveProperty('routes')
    expect(none.receivers).toEqual([{ name: 'none' }])
  })

  it('scrapes Qdrant with its API key as a bearer token read from a file, given to Prometheus by name', async () => {
    const { project, render } = await moros()
    const prometheus = render.files.find((f) => f.path.endsWith('/prometheus/prometheus.yml'))!
    const jobs = (parse(prometheus.content) as { scrape_configs: Record<string, any>[] }).scrape_configs
    const qdrant = jobs.find((j) => j.job_name === 'qdrant')!
    expect(qdrant.authorization).toEqual({ credentials_file: '/run/secrets/QDRANT_API_KEY' })
    expect(qdrant.static_configs[0].targets).toEqual([`${project.hosts.erebus!.address}:6333`])
    // only the jobs that declare a bearer secret carry one
    expect(jobs.filter((j) => j.authorization).map((j) => j.job_name)).toEqual(['qdrant'])
    const compose = parse(render.compose.content) as { services: Record<string, any> }
    expect(compose.services.prometheus.environment).toEqual({ QDRANT_API_KEY: '${QDRANT_API_KEY}' })
    expect(compose.services.prometheus.tmpfs).toEqual(['/run/secrets'])
  })

  it('validate: the service that reads the file must pass the secret, not just any service', async () => {
    const dir = await projectFrom(REPO, {
      'stacks/monitoring.yaml': (text) => {
        expect(text).toContain('      QDRANT_API_KEY: ${QDRANT_API_KEY}\n')
        return text.replace('      QDRANT_API_KEY: ${QDRANT_API_KEY}\n', '      UNRELATED: "1"\n')
      },
    })
    try {
      const report = await validateProject(dir)
      // Qdrant itself and the frontend pass QDRANT_API_KEY; Prometheus, which reads it, no longer does
      expect(report.issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([
        expect.stringMatching(
          /^stacks\/databases\.yaml:\d+:\d+ services\.qdrant\.x-ai-platform\.metrics\.bearer_secret: prometheus reads it from \/run\/secrets\/QDRANT_API_KEY, written from its environment at start, but its environment does not pass QDRANT_API_KEY/,
        ),
      ])
    } finally {
      await removeProject(dir)
    }
  })

  it("the entrypoint writes every variable of the container's environment to a 0600 file, byte for byte, then runs the command", async () => {
    const { project, render } = await moros()
    const compose = parse(render.compose.content) as { services: Record<string, any> }
    const [shell, flag, script, binary] = compose.services.alertmanager.entrypoint as string[]
    expect([shell, flag, binary]).toEqual(['/bin/sh', '-c', '/bin/alertmanager'])
    // Prometheus reads a scrape's bearer token the same way (metrics.bearer_secret), with the same script
    const prometheus = parse(renderHost(project, 'moros').render!.compose.content).services.prometheus
    expect(prometheus.entrypoint).toEqual(['/bin/sh', '-c', script, '/bin/prometheus'])
    const dir = await mkdtemp(join(tmpdir(), 'aip-alert-secrets-'))
    try {
      // What the container runs: Compose turns $$ into $; the test's directory and `printf` stand in
      // for /run/secrets and the binary ($0).
      const runnable = script!
        .replaceAll('$$', '$')
        .replaceAll('/run/secrets', dir)
        .replace('exec "$0"', "exec printf '<%s>'")
      const value = `p a$s"w'd %s \\n ${'x'.repeat(300)}`
      const out = execFileSync('/bin/sh', ['-c', runnable, '/bin/alertmanager', '--config.file=/etc/a.yml', '--x'], {
        env: { PATH: process.env.PATH, SMTP_PASSWORD: value, NTFY_TOKEN: '' },
        encoding: 'utf8',
      })
      expect(out).toBe('<--config.file=/etc/a.yml><--x>')
      expect(await readFile(join(dir, 'SMTP_PASSWORD'), 'utf8')).toBe(value)
      expect(await readFile(join(dir, 'NTFY_TOKEN'), 'utf8')).toBe('')
      expect((await stat(join(dir, 'SMTP_PASSWORD'))).mode & 0o777).toBe(0o600)
      expect((await readdir(dir)).sort()).toEqual(expect.arrayContaining(['NTFY_TOKEN', 'PATH', 'SMTP_PASSWORD']))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
