import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.scratch/**', 'test/fleet/.state/**', 'bench/.work/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { fetch: 'readonly', process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Commands stay thin: transports and UI libraries belong in src/ (STYLE.md habit 1).
    files: ['commands/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['node-ssh', 'ssh2', 'dockerode', 'undici', 'listr2', 'execa'].map((name) => ({ name, message: 'commands/ call a service in src/ instead' })) }],
    },
  },
)
