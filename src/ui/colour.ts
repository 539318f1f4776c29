// Whether ai-platform's own text is coloured. chalk 5 follows FORCE_COLOR and the terminal but not
// NO_COLOR (https://no-color.org); listr2 and oclif's help follow it themselves.
import chalk, { type ColorSupportLevel } from 'chalk'

/** NO_COLOR set and non-empty turns colour off, whatever FORCE_COLOR says; otherwise chalk's own choice stands. */
export function colourLevel(env: NodeJS.ProcessEnv, detected: ColorSupportLevel): ColorSupportLevel {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? 0 : detected
}

/** For the command layer, before anything is printed: chalk's one instance is what every formatter colours with. */
export function honourNoColor(env: NodeJS.ProcessEnv = process.env): void {
  chalk.level = colourLevel(env, chalk.level)
}
