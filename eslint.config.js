import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Imports a file may not make: `^(../)+DIR/` for each directory named (the layers of docs/architecture.md). */
const layers = (dirs, message, options = {}) => ({
  '@typescript-eslint/no-restricted-imports': [
    'error',
    { patterns: [{ regex: `^(\\.\\./)+(${dirs.join('|')})/`, message, ...options }] },
  ],
})

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.scratch/**',
      'test/fleet/.state/**',
      'bench/.work/**',
      'src/config/schema-types.generated.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: {
        fetch: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      // a promise nobody awaits is a failure nobody sees
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    // JavaScript files (bin/, tools/, the fleet's stand-ins) have no types to check against.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Tests and benchmarks read the CLI's JSON output (any) on purpose: every field they use is asserted.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // stand-ins implement async interfaces without awaiting anything
      '@typescript-eslint/require-await': 'off',
    },
  },
  // Who may import whom (docs/architecture.md). Import circles and dead exports: tools/check-imports.mjs.
  {
    // Commands stay thin: transports and UI libraries belong in src/.
    files: ['commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['ssh2', 'dockerode', 'undici', 'listr2', 'execa'].map((name) => ({
            name,
            message: 'commands/ call a service in src/ instead',
          })),
        },
      ],
    },
  },
  {
    files: ['src/util/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./(?!errors\\.js$)', message: 'src/util/ imports nothing of the project but errors.ts' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/errors.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\./', message: 'src/errors.ts imports nothing of the project' }] },
      ],
    },
  },
  {
    files: ['src/remote/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(deploy|health|models|images|ops|ui|cli|plan|render|audit|init|validate|secrets)/',
              message: 'src/remote/ is the transport: it imports errors, util and the model types only',
            },
            {
              regex: '^\\.\\./config/(?!model\\.js$)',
              message: 'src/remote/ takes the model types from config/model.ts, nothing else of config/',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/config/**/*.ts'],
    rules: layers(
      [
        'deploy',
        'health',
        'models',
        'images',
        'ops',
        'ui',
        'cli',
        'audit',
        'init',
        'validate',
        'remote',
        'plan',
        'render',
      ],
      'src/config/ is the bottom pure layer: it reads the platform files and imports only util, errors and itself',
    ),
  },
  {
    files: ['src/render/**/*.ts', 'src/plan/**/*.ts'],
    rules: layers(
      ['deploy', 'health', 'models', 'images', 'ops', 'ui', 'cli', 'audit', 'init', 'validate'],
      'pure layers import config, render, plan, secrets and util: never a service, a connector or the terminal',
    ),
  },
  {
    files: ['src/deploy/**/*.ts', 'src/health/**/*.ts', 'src/models/**/*.ts', 'src/images/**/*.ts', 'src/ops/**/*.ts'],
    rules: layers(
      ['ui', 'cli'],
      'services get their reporter, confirmation and signals from the command layer; only their types come from src/cli/',
      { allowTypeImports: true },
    ),
  },
)
