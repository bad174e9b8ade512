/** The frame's words, in English and Chinese. `{x}` are filled in. */
export const STRINGS = {
  en: {
    title: 'Lend your spare CPU?',
    body: 'While this page is open, your browser can compute small sandboxed tasks for other people on the Golem Clay network. The tasks run in isolated workers: they cannot see this site, your files or the network.',
    forAccount: 'Credit goes to the site owner\'s account {account}.',
    limits: 'At most {cores} core(s), {cpu}% of the time. It pauses when the page is hidden, on battery, or when your computer is busy.',
    join: 'Join',
    notNow: 'Not now',
    remembered: 'You said yes on this site before.',
    joining: 'Joining the network…',
    working: 'Working: {done} subtask(s) done, {share}% of the time so far',
    waiting: 'Connected, waiting for work',
    paused: 'Paused: {reason}',
    stopped: 'Stopped. Nothing runs now.',
    failed: 'Something went wrong: {reason}',
    pause: 'Pause',
    resume: 'Resume',
    stop: 'Stop',
    startAgain: 'Start again',
    forget: 'Forget my choice',
    forgotten: 'Your choice is forgotten on this site.',
    stopping: 'Stopping: handing over what was earned…',
    notSeen: 'This widget must be fully visible for your click to count: scroll it into view, then click again.',
    badAccount: 'This widget is set up with an invalid account address: the site owner must fix it. Nothing runs.',
    byVisitor: 'by you',
    byHost: 'by the site',
    hidden: 'the page is hidden',
    battery: 'on battery',
    pressure: 'the computer is busy'
  },
  zh: {
    title: '出借空闲的 CPU？',
    body: '在此页面打开期间，您的浏览器可以为 Golem Clay 网络上的其他人计算小型沙盒任务。任务在隔离的 worker 中运行：它们无法访问本网站、您的文件或网络。',
    forAccount: '收益记入网站所有者的账户 {account}。',
    limits: '最多 {cores} 个核心，{cpu}% 的时间。页面隐藏、使用电池或电脑繁忙时会暂停。',
    join: '加入',
    notNow: '以后再说',
    remembered: '您之前在本网站同意过。',
    joining: '正在加入网络…',
    working: '工作中：已完成 {done} 个子任务，至今占用 {share}% 的时间',
    waiting: '已连接，等待任务',
    paused: '已暂停：{reason}',
    stopped: '已停止，目前没有任何运行。',
    failed: '出错了：{reason}',
    pause: '暂停',
    resume: '继续',
    stop: '停止',
    startAgain: '重新开始',
    forget: '忘记我的选择',
    forgotten: '已在本网站忘记您的选择。',
    stopping: '正在停止：正在交付已赚取的款项…',
    notSeen: '此小组件必须完全可见，您的点击才有效：请将其滚动到视图中，然后再次点击。',
    badAccount: '此小组件配置的账户地址无效，需由网站所有者修正。目前没有任何运行。',
    byVisitor: '由您',
    byHost: '由网站',
    hidden: '页面已隐藏',
    battery: '正在使用电池',
    pressure: '电脑繁忙'
  }
} as const

export type Strings = typeof STRINGS.en
export type StringKey = keyof Strings

export function fill (text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''))
}
