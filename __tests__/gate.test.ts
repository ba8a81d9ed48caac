import { describe, expect, test } from '@jest/globals'
import {
  LogGate,
  annotation,
  escapeData,
  escapeProperty,
  logLine,
  gfm,
  gfmHtml,
  htmlText,
  mdCell,
  mdCode,
  mdCodeBlock,
  mdComment,
  mdDetails,
  mdLink,
  mdMermaid,
  mdTable,
  mdText,
  mermaid,
  mermaidText,
  newStopToken,
  oneLine,
  splitLines,
  stripControls
} from '../src/text/gate.js'
import { runnerCommands, runnerLines } from './support/runner-commands.js'

const ESC = '\x1b'
const TOKEN = '0123456789abcdef0123456789abcdef'
/** A pod's guess at the token: it cannot know the real one (128 random bits). */
const GUESS = 'deadbeefdeadbeefdeadbeefdeadbeef'

/** A gate writing into a string, as stdout would get it. */
function capture(token = TOKEN): { gate: LogGate; out: () => string } {
  let text = ''
  const gate = new LogGate((t) => (text += t), token)
  return { gate, out: () => text }
}

/** What a pod can print to take over the runner. */
const HOSTILE = [
  '::add-mask::secret-word',
  '  ::add-mask::indented',
  '\t::error title=x::y',
  '::error title=Forged,file=README.md,line=1::forged annotation',
  '::warning::w',
  '::notice::n',
  '::debug::d',
  '::stop-commands::x',
  '::stop-commands::pwned',
  '::pwned::',
  '::set-output name=a::b',
  '::save-state name=s::v',
  '::set-env name=NODE_OPTIONS::--require /tmp/x',
  '::add-path::/tmp/evil',
  '::add-matcher::/tmp/m.json',
  '::remove-matcher owner=x::',
  '::group::hidden',
  '::endgroup::',
  '::echo::on',
  '##[group]hidden',
  '##[endgroup]',
  '##[error]legacy error',
  '##[add-mask]legacy-mask',
  '##[set-output name=a;]b',
  'text before ##[warning]legacy anywhere in a line',
  '##[stop-commands]x',
  `::${GUESS}::`,
  `##[${GUESS}]`,
  '::stop-commands::abc\n::abc::',
  '#\x00#[error]a NUL between the hashes',
  'CR then a command\r::add-mask::after-cr',
  'bidi \u202e::error::x',
  '\u00a0::error::non-breaking space first',
  '\u2028::error::line separator first',
  `${ESC}[2K::error::after erase-line`,
  `${ESC}]0;title\x07::error::after osc`
]

describe('runner command parser (test support)', () => {
  test('without the gate nearly every hostile line is a command', () => {
    const inert = HOSTILE.filter((l) => runnerCommands(l).length === 0)
    // a guessed token means nothing while commands run; the last three are
    // not commands to a parser that searches ordinally (the gate strips
    // what hides them anyway)
    expect(inert).toEqual([
      '::pwned::',
      `::${GUESS}::`,
      `##[${GUESS}]`,
      '#\x00#[error]a NUL between the hashes',
      'bidi \u202e::error::x',
      `${ESC}[2K::error::after erase-line`,
      `${ESC}]0;title\x07::error::after osc`
    ])
    const names = new Set(HOSTILE.flatMap((l) => runnerCommands(l).map((c) => c.name)))
    for (const n of ['add-mask', 'error', 'set-output', 'save-state', 'stop-commands', 'group', 'set-env', 'add-path'])
      expect(names).toContain(n)
  })

  test('both forms, leading whitespace, properties and escaping', () => {
    const cmds = runnerCommands(
      ['  ::error title=a%3Ab%2Cc,line=3::m%0An%25', 'x ##[set-output name=o;]v%5D', '::unknown::x', 'a ::error::not first'].join('\n')
    )
    expect(cmds).toEqual([
      expect.objectContaining({ name: 'error', properties: { title: 'a:b,c', line: '3' }, data: 'm\nn%', form: '::', lineNo: 1 }),
      expect.objectContaining({ name: 'set-output', properties: { name: 'o' }, data: 'v]', form: '##[', lineNo: 2 })
    ])
  })

  test('stop-commands stops both forms until the token, in either form', () => {
    const out = ['::stop-commands::tok', '::error::a', '##[error]b', '##[TOK]', '::error::c', '::stop-commands::t2', '::t2::', '::error::d']
    expect(runnerCommands(out.join('\n')).map((c) => `${c.name}${c.resumes ? ' (resumes)' : ''}:${c.data}`)).toEqual([
      'stop-commands:tok',
      'tok (resumes):',
      'error:c',
      'stop-commands:t2',
      't2 (resumes):',
      'error:d'
    ])
  })

  test('a token naming a command does not stop anything (the runner fails the step)', () => {
    expect(runnerCommands('::stop-commands::error\n::warning::w').map((c) => c.name)).toEqual(['stop-commands', 'warning'])
  })

  test('lines end at LF, CRLF and a lone CR', () => {
    expect(runnerLines('a\r\nb\rc\nd')).toEqual(['a', 'b', 'c', 'd'])
  })
})

describe('LogGate', () => {
  test('no hostile line yields a command other than the gate own', () => {
    const token = newStopToken()
    const { gate, out } = capture(token)
    gate.untrusted(HOSTILE)
    gate.untrusted(HOSTILE.join('\n'))
    for (const l of HOSTILE) gate.untrusted(l)
    gate.close()
    const cmds = runnerCommands(out())
    expect(cmds.map((c) => [c.name, c.data])).toEqual([
      ['stop-commands', token],
      [token, '']
    ])
  })

  test('each hostile line alone, between commands of our own', () => {
    for (const hostile of HOSTILE) {
      let out = ''
      const gate = new LogGate((t) => (out += t))
      gate.own(() => (out += '::group::pod a\n'))
      gate.untrusted(hostile)
      gate.own(() => (out += '::endgroup::\n'))
      gate.untrusted(`  ${hostile}`)
      gate.own(() => (out += '::error title=ours::the verdict\n'))
      const cmds = runnerCommands(out).map((c) => c.name)
      expect({ hostile, cmds }).toEqual({
        hostile,
        cmds: ['group', 'stop-commands', gate.token, 'endgroup', 'stop-commands', gate.token, 'error']
      })
    }
  })

  test('one block for consecutive untrusted writes; the same token for every block', () => {
    const { gate, out } = capture()
    gate.untrusted('a')
    gate.untrusted(['b', 'c'])
    expect(gate.isOpen).toBe(true)
    gate.own(() => undefined)
    expect(gate.isOpen).toBe(false)
    gate.close() // closing twice writes nothing
    gate.untrusted('d')
    gate.close()
    expect(out()).toBe(`::stop-commands::${TOKEN}\na\nb\nc\n::${TOKEN}::\n::stop-commands::${TOKEN}\nd\n::${TOKEN}::\n`)
  })

  test('own returns what fn returns and runs it after the block is closed', () => {
    const { gate, out } = capture()
    gate.untrusted('x')
    const seen = gate.own(() => out())
    expect(seen.endsWith(`::${TOKEN}::\n`)).toBe(true)
  })

  test('nothing is written for no lines', () => {
    const { gate, out } = capture()
    gate.untrusted([])
    gate.close()
    expect(out()).toBe('')
  })

  test('multi-line text is split, a lone CR removed', () => {
    const { gate, out } = capture()
    gate.untrusted('one\r\ntwo\nthree\rstill three\n')
    expect(out()).toBe(`::stop-commands::${TOKEN}\none\ntwo\nthreestill three\n`)
  })

  test('tokens: unguessable, per gate, hex long enough to be masked', () => {
    const a = newStopToken()
    const b = newStopToken()
    expect(a).toMatch(/^[0-9a-f]{32}$/)
    expect(a).not.toBe(b)
    expect(new LogGate(() => undefined).token).toMatch(/^[0-9a-f]{32}$/)
    expect(() => new LogGate(() => undefined, 'error')).toThrow(/hex/)
  })

  test('a default gate writes to stdout', () => {
    const writes: string[] = []
    const orig = process.stdout.write
    process.stdout.write = ((s: string) => writes.push(s) > 0) as typeof process.stdout.write
    try {
      const gate = new LogGate(undefined, TOKEN)
      gate.untrusted('hello')
      gate.close()
    } finally {
      process.stdout.write = orig
    }
    // one write for the block's start and the lines, one for its end
    expect(writes).toEqual([`::stop-commands::${TOKEN}\nhello\n`, `::${TOKEN}::\n`])
  })
})

describe('logLine', () => {
  test('"##[" is made inert, after controls are gone', () => {
    expect(logLine('##[group]x')).toBe('##[\\group]x')
    expect(logLine('a ##[error]b ##[warning]c')).toBe('a ##[\\error]b ##[\\warning]c')
    expect(logLine('#\x00#[error]x')).toBe('##[\\error]x')
    expect(logLine('#\u202e#[error]x')).toBe('##[\\error]x')
  })

  test('"::" lines are left as they are (inert inside the block, and what the pod printed)', () => {
    expect(logLine('  ::add-mask::x')).toBe('  ::add-mask::x')
  })

  test('colour passes, tab passes', () => {
    const red = `${ESC}[31mred${ESC}[0m\tand ${ESC}[1;38;5;208mbold orange${ESC}[m ${ESC}[38:2:1:2:3mrgb`
    expect(logLine(red)).toBe(red)
  })
})

describe('stripControls', () => {
  test.each([
    ['cursor movement (CSI other than m)', `a${ESC}[2Ab${ESC}[10;20Hc${ESC}[2Kd${ESC}[?25le`, 'abcde'],
    ['private CSI ending in m is not SGR', `a${ESC}[>4;2mb`, 'ab'],
    ['OSC title ended by BEL', `a${ESC}]0;title\x07b`, 'ab'],
    ['OSC hyperlink ended by ST: the link text stays', `${ESC}]8;;https://evil${ESC}\\click${ESC}]8;;${ESC}\\`, 'click'],
    ['DCS, APC, PM, SOS', `a${ESC}Pq#0${ESC}\\b${ESC}_x${ESC}\\c${ESC}^y${ESC}\\d${ESC}Xz${ESC}\\e`, 'abcde'],
    ['unterminated OSC loses its introducer only', `a${ESC}]0;visible`, 'a0;visible'],
    ['two-character and nF sequences', `a${ESC}cb${ESC}(Bc${ESC}=d${ESC}7e`, 'abcde'],
    ['lone ESC at the end', `a${ESC}`, 'a'],
    ['unterminated CSI', `a${ESC}[12`, 'a12'],
    ['C0 but tab, DEL', 'a\x00b\x07c\x08d\te\x7ff\x0bg\x0ch\rI', 'abcd\tefghI'],
    ['C1, the 8-bit CSI among them', 'a\x85b\x9b31mc\x9dd', 'ab31mcd'],
    ['bidi controls', 'a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069j\u200ek\u200fl\u061cm', 'abcdefghijklm'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'abc'],
    ['ordinary text, emoji and a ZWJ sequence stay', 'größe 😀 👩\u200d💻 日本', 'größe 😀 👩\u200d💻 日本']
  ])('%s', (_what, input, want) => {
    expect(stripControls(input, true)).toBe(want)
  })

  test('without keepColour, colour goes too', () => {
    expect(stripControls(`${ESC}[31mred${ESC}[0m`)).toBe('red')
  })
})

describe('splitLines', () => {
  test('LF and CRLF end lines; a final newline adds no empty line; inner empty lines stay', () => {
    expect(splitLines('a\r\nb\n\nc\n')).toEqual(['a', 'b', '', 'c'])
    expect(splitLines('')).toEqual([''])
  })
})

describe('annotations', () => {
  test('escaping as @actions/core does it', () => {
    expect(escapeData('100% done\r\nnext')).toBe('100%25 done%0D%0Anext')
    expect(escapeProperty('a:b,c%\n')).toBe('a%3Ab%2Cc%25%0A')
  })

  test('oneLine: first non-blank line, controls gone, cut', () => {
    expect(oneLine('\n  \n  first line  \nsecond')).toBe('first line …')
    expect(oneLine(`${ESC}[31mpanic${ESC}[0m: boom`)).toBe('panic: boom')
    expect(oneLine('x'.repeat(20), 10)).toBe(`${'x'.repeat(10)} …`)
    expect(oneLine('\n\n')).toBe('')
    expect(oneLine('only')).toBe('only')
  })

  test('annotation(): a hostile title and message stay inside one command', () => {
    const line = annotation('error', 'pod said: ::add-mask::x\n##[group]y %0A', {
      title: 'evil,file=x.ts::\n::warning::title',
      line: 3
    })
    expect(line).toBe('::error title=evil%2Cfile=x.ts%3A%3A …,line=3::pod said: ::add-mask::x%0A##[group]y %250A')
    const cmds = runnerCommands(line + '\n')
    expect(cmds).toHaveLength(1)
    expect(cmds[0]).toMatchObject({
      name: 'error',
      properties: { title: 'evil,file=x.ts:: …', line: '3' },
      data: 'pod said: ::add-mask::x\n##[group]y %0A'
    })
  })

  test('annotation() without properties, controls gone', () => {
    expect(annotation('warning', `a${ESC}[2Jb\u202e`)).toBe('::warning::ab')
  })
})

describe('markdown', () => {
  test('inline: HTML inert', () => {
    expect(mdText('</details><img src=x onerror=alert(1)> & more')).toBe('&lt;/details&gt;&lt;img src=x onerror=alert(1)&gt; &amp; more')
  })

  test('inline: mentions, references and autolinks not live', () => {
    const out = mdText('ping @octocat and @org/team about #123, owner/repo#4 and GH-5, see https://x.io and www.x.io')
    expect(out).toBe(
      'ping @\u200doctocat and @\u200dorg/team about #\u200d123, owner/repo#\u200d4 and GH-\u200d5, see https:\u200d//x.io and www\u200d.x.io'
    )
  })

  test('inline: an autolink after a word character is broken too (GFM links www. after "_")', () => {
    expect(mdText('_em_www.evil.example xGH-1')).toBe('\\_em\\_www\u200d.evil.example xGH-\u200d1')
  })

  test('inline: markdown punctuation escaped, line breaks flattened, no colour, plain punctuation kept', () => {
    expect(mdText(`**bold** _it_ [link](http://x) \`code\` ~~s~~ a|b $x$ \\ ${ESC}[31mred\nsecond (x): y!`)).toBe(
      '\\*\\*bold\\*\\* \\_it\\_ \\[link\\](http:\u200d//x) \\`code\\` \\~\\~s\\~\\~ a\\|b \\$x\\$ \\\\ red second (x): y!'
    )
  })

  test('inline: what would start a list, a break or a heading at the start of a line is escaped', () => {
    expect(mdText('- item')).toBe('\\- item')
    expect(mdText('---')).toBe('\\---')
    expect(mdText('+ x')).toBe('\\+ x')
    expect(mdText('===')).toBe('\\===')
    expect(mdText('12. x')).toBe('12\\. x')
    expect(mdText('3) x')).toBe('3\\) x')
    expect(mdText('# title')).toBe('#\u200d title')
    expect(mdText('> quote')).toBe('&gt; quote')
    // not at the start, or not a marker: left alone
    expect(mdText('7.0s')).toBe('7.0s')
    expect(mdText('a - b')).toBe('a - b')
  })

  test('inline: cut at max, not inside a surrogate pair', () => {
    expect(mdText('x'.repeat(300), 200)).toBe(`${'x'.repeat(200)} …`)
    expect(mdText(`${'x'.repeat(9)}😀`, 10)).toBe(`${'x'.repeat(9)} …`)
  })

  test('table: cells escaped, an empty cell stays empty, rows must match the header', () => {
    expect(
      mdTable(
        [gfm`A`, gfm`B`],
        [
          [mdCell('a | b'), 3],
          [mdCell(''), mdCell(undefined)]
        ]
      )
    ).toBe('| A | B |\n| --- | --- |\n| a \\| b | 3 |\n|  |  |')
    expect(() => mdTable([gfm`A`, gfm`B`], [[mdCell('x')]])).toThrow(/1 cells under a header of 2/)
    expect(() => mdTable([gfm`A`], [[mdCodeBlock('x')]])).toThrow(/one line/)
  })

  test('code span: a fence longer than any backtick run, padded where needed, | escaped', () => {
    expect(mdCode('build-x1')).toBe('`build-x1`')
    expect(mdCode('a`b')).toBe('``a`b``')
    expect(mdCode('`x')).toBe('`` `x ``')
    expect(mdCode('a|b\nc')).toBe('`a\\|b c`')
    expect(mdCode('')).toBe('')
  })

  test('code block: the fence is longer than any run of backticks inside', () => {
    expect(mdCodeBlock('plain')).toBe('```text\nplain\n```')
    expect(mdCodeBlock(['has ``` inside', '````', 'and `one`'])).toBe('`````text\nhas ``` inside\n````\nand `one`\n`````')
    expect(mdCodeBlock('', 'log')).toBe('```log\n\n```')
    expect(() => mdCodeBlock('x', 'a b')).toThrow(/info string/)
  })

  test('code block: HTML and mentions are left as text (inert in a code block), controls and colour gone', () => {
    expect(mdCodeBlock(`</details> @octocat #1\n${ESC}[31mred${ESC}[0m\u202e\r`)).toBe('```text\n</details> @octocat #1\nred\n```')
  })

  test('code block: every line of hostile text stays inside the fence', () => {
    const text = ['```', '~~~', '    ```', '</details>', '````````'].join('\n')
    const block = mdCodeBlock(text).split('\n')
    const fence = block[0]!.replace('text', '')
    expect(fence).toBe('`'.repeat(9))
    // only the first and last lines are the fence or longer
    const closers = block.filter((l) => l.trim().startsWith(fence))
    expect(closers).toHaveLength(2)
    expect(block[block.length - 1]).toBe(fence)
  })

  test('HTML text, details and comment: nothing ends the tag or the comment', () => {
    expect(htmlText(`a"b'c<d>&e @f #1`)).toBe('a&quot;b&#39;c&lt;d&gt;&amp;e @\u200df #\u200d1')
    expect(mdDetails(gfmHtml`Log of <code>${htmlText('</code></summary>')}</code>`, gfm`body`)).toBe(
      '<details><summary>Log of <code>&lt;/code&gt;&lt;/summary&gt;</code></summary>\n\nbody\n\n</details>'
    )
    expect(mdComment('kube-job-wait: ci/x --> <img>')).toBe('<!-- kube-job-wait: ci/x --&gt; &lt;img&gt; -->')
  })

  test('link: only http(s), and nothing in the URL ends the destination', () => {
    expect(mdLink(gfm`run`, 'https://github.com/acme/app/actions/runs/42')).toBe('[run](https://github.com/acme/app/actions/runs/42)')
    expect(mdLink(gfm`run`, 'https://x.io/a) [b](c <d>')).toBe('[run](https://x.io/a%29%20[b]%28c%20%3Cd%3E)')
    expect(mdLink(gfm`run`, 'javascript:alert(1)')).toBe('run')
    expect(mdLink(gfm`run`, 'not a url')).toBe('run')
  })

  test('mermaid: a label keeps only what cannot end its field, comment or fence', () => {
    expect(mermaidText('build-x1 [3]')).toBe('build-x1 [3]')
    expect(mermaidText('a:b;c#d %%{init}%% <b>`x`\ny')).toBe('a?b?c?d ???init??? ?b??x? y')
    expect(mermaidText('')).toBe('-')
    expect(mdMermaid([mermaid`gantt`, mermaid`  section ${mermaidText('```')}`])).toBe('```mermaid\ngantt\n  section ???\n```')
  })

  test('the template tags take only template literals, and their holes only their own kind', () => {
    const fake = Object.assign(['<img>'], { raw: ['<img>'] }) as unknown as TemplateStringsArray
    expect(() => gfm(fake)).toThrow(/template tags/)
    // Each line below is a type error, which `npm run build` checks: were it not, the directive would fail the build.
    // @ts-expect-error a string is not Markdown
    expect(gfm`${'<img>'}`).toBe('<img>')
    // @ts-expect-error a string is not Html
    expect(gfmHtml`${'<img>'}`).toBe('<img>')
    // @ts-expect-error Markdown is not MermaidText
    expect(mermaid`${gfm`x`}`).toBe('x')
    // @ts-expect-error Markdown is not Html: markdown escapes do not hold inside an HTML block
    expect(mdDetails(mdText('x'), gfm`y`)).toContain('x')
  })
})

describe("the simulator's hostile lines (sim.kjw.dev/log-hostile)", () => {
  test('through the gate: no command but its own; in markdown: nothing live', async () => {
    const { HOSTILE_LINES } = await import('../test/cluster/sim-logs.js')
    expect(HOSTILE_LINES.length).toBeGreaterThan(10)
    const token = newStopToken()
    const { gate, out } = capture(token)
    gate.untrusted(HOSTILE_LINES)
    gate.close()
    expect(runnerCommands(out()).map((c) => c.name)).toEqual(['stop-commands', token])
    for (const l of HOSTILE_LINES) {
      const inline = mdText(l)
      expect(inline).not.toMatch(/[<>]|@[a-z]|#\d|\x1b|[\u202a-\u202e\u2066-\u2069]/i)
      expect(inline).not.toMatch(/(^|[^\\])[|`*_[\]]/)
    }
    const block = mdCodeBlock(HOSTILE_LINES).split('\n')
    const fence = block[0]!.replace(/text$/, '')
    expect(block.slice(1, -1).some((l) => l.trimStart().startsWith(fence))).toBe(false)
    expect(block.join('\n')).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/)
  })
})
