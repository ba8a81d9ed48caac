// ESLint, as GitHub's typescript-action template sets it up (typescript-eslint,
// Prettier for the formatting), plus one rule of ours: imports point down the
// pipeline. inputs → credentials → create → observe → decide → diagnose → report →
// cleanup → engine, then its faces, github and cli (and src/index.ts, the
// action's entry point): a stage may import the stages before it
// and the shared modules (model, duration, text, kube), never one after it.
// And the engine knows no GitHub: only src/github/ imports @actions/*.
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const stages = ['inputs', 'credentials', 'create', 'observe', 'decide', 'diagnose', 'report', 'cleanup', 'engine']
/** The engine's faces: each imports the stages, never another face. */
const faces = ['github', 'cli']
/** import specifiers that reach a stage, from anywhere in src/ */
const reach = (stage) => [`**/${stage}.js`, `**/${stage}/**`, `./${stage}.js`, `./${stage}/**`]
const after = (stage) => (faces.includes(stage) ? faces.filter((f) => f !== stage) : [...stages.slice(stages.indexOf(stage) + 1), ...faces])
/** Outside the GitHub face (src/github/), as a pattern of no-restricted-imports: one rule holds both (a later
 * setting of the rule for the same files would replace an earlier one, not add to it). */
const noActions = { group: ['@actions/*'], message: 'the engine knows no GitHub: @actions/* only in src/github/' }
const downward = (files, later, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...(later.length ? [{ group: later.flatMap(reach), message: `imports point down the pipeline: ${why}` }] : []),
          ...(files.some((f) => f.startsWith('src/github')) ? [] : [noActions])
        ]
      }
    ]
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
    [...stages, ...faces],
    'a shared module imports no stage'
  ),
  ...[...stages, ...faces].map((s) => downward([`src/${s}.ts`, `src/${s}/**`], after(s), `${s} may not import a later stage`)),
  downward(['src/index.ts'], [], 'the entry point'),
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
            },
            noActions
          ],
          paths: [{ name: '@actions/core', message: 'decide is pure: no I/O' }]
        }
      ]
    }
  }
)
