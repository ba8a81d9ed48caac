// ESLint, as GitHub's typescript-action template sets it up (typescript-eslint,
// Prettier for the formatting), plus one rule of ours: imports point down the
// pipeline. inputs → credentials → create → observe → decide → diagnose → report →
// main: a stage may import the stages before it and the shared modules
// (model, duration, text, kube), never one after it.
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const stages = ['inputs', 'credentials', 'create', 'observe', 'decide', 'diagnose', 'report', 'cleanup', 'main']
/** import specifiers that reach a stage, from anywhere in src/ */
const reach = (stage) => [`**/${stage}.js`, `**/${stage}/**`, `./${stage}.js`, `./${stage}/**`]
const after = (stage) => stages.slice(stages.indexOf(stage) + 1)
const downward = (files, later, why) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: [{ group: later.flatMap(reach), message: `imports point down the pipeline: ${why}` }] }]
  }
})

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.cluster/**', 'test/cluster/bin/**', 'bench/results*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2024, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-control-regex': 'off'
    }
  },
  // The shared modules know no stage.
  downward(
    ['src/model.ts', 'src/pod-table.ts', 'src/duration.ts', 'src/text/**', 'src/kube/**'],
    stages,
    'a shared module imports no stage'
  ),
  ...stages.filter((s) => s !== 'main').map((s) => downward([`src/${s}.ts`, `src/${s}/**`], after(s), `${s} may not import a later stage`)),
  // decide is pure: it sees the model, never the cluster.
  {
    files: ['src/decide/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...after('decide').flatMap(reach), '**/kube/**', '**/observe/**', '**/inputs.js', '**/credentials.js'],
              message: 'decide is pure: it imports the model only'
            }
          ],
          paths: [{ name: '@actions/core', message: 'decide is pure: no I/O' }]
        }
      ]
    }
  }
)
