#!/usr/bin/env node
// Only the launcher decides exit codes: user errors exit 1 without a stack, bugs print one.
import { execute } from '@oclif/core'

await execute({ dir: import.meta.url })
