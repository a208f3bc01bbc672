import { isAddress } from '@aitbc/crypto';
import {
  type AitbcClient,
  type CommitJson,
  checkReceipt,
  isApiError,
  type NodeBlock,
  type NodeTx,
  type NodeValidator,
  type Receipt,
  trustedValidatorSet,
  verifyFinalHeader,
} from '@aitbc/sdk';
import { type AppContext, loadAppContext, type PinnedValidator, sessionToken } from '../shared/appConfig.js';
import { createShell, describeError, errorPanel, panel, startHashRouter } from '../shared/appShell.js';
import { type Child, fields, h, mount, table } from '../shared/dom.js';
import { formatAmount, formatTime, shortId } from '../shared/format.js';
import '../shared/styles.css';

const RECENT = 10;

const link = (href: string, text: string, title?: string) => h('a', { href, ...(title ? { title } : {}) }, text);
const blockLink = (height: number) => link(`#/block/${height}`, `#${height}`);
const txLink = (id: string) => link(`#/tx/${id}`, shortId(id), id);
const addrLink = (a: string | null | undefined) => (a ? link(`#/address/${a}`, shortId(a, 10), a) : '—');
const jobLink = (id: string) => link(`#/job/${id}`, shortId(id), id);
const code = (s: string | number | null | undefined) => h('code', {}, s === null || s === undefined ? '—' : String(s));
const badge = (ok: boolean, text: string) => h('span', { class: ok ? 'badge ok' : 'badge bad' }, text);

/** The fields of a tx that matter to a reader, whatever its type. */
function txFields(tx: NodeTx): [string, Child][] {
  const t = tx as NodeTx & Record<string, unknown>;
  const rows: [string, Child][] = [
    ['Type', code(t.type as string)],
    ['From', addrLink(t.from as string)],
  ];
  if (typeof t.to === 'string') rows.push(['To', addrLink(t.to)]);
  if (t.amount !== undefined) rows.push(['Amount', formatAmount(t.amount as string)]);
  rows.push(['Fee', formatAmount(t.fee as string)], ['Nonce', code(t.nonce as number)]);
  if (typeof t.jobId === 'string') rows.push(['Job (escrow)', jobLink(t.jobId)]);
  if (typeof t.coordinator === 'string') rows.push(['Coordinator', addrLink(t.coordinator)]);
  if (t.expiresAtHeight !== undefined) rows.push(['Escrow expires at', code(t.expiresAtHeight as number)]);
  return rows;
}

function txRow(tx: NodeTx): Child[] {
  const t = tx as NodeTx & Record<string, unknown>;
  return [
    txLink(tx.id),
    code(t.type as string),
    addrLink(t.from as string),
    typeof t.to === 'string' ? addrLink(t.to) : typeof t.jobId === 'string' ? jobLink(t.jobId) : '—',
    t.amount !== undefined ? formatAmount(t.amount as string) : '—',
    tx.height !== undefined ? blockLink(tx.height) : 'pending',
  ];
}

const blockRow = (b: NodeBlock): Child[] => [
  blockLink(b.height),
  link(`#/block/${b.hash}`, shortId(b.hash), b.hash),
  formatTime(b.header.timestamp),
  b.txs.length,
  addrLink(b.header.proposer),
];

async function recentBlocks(client: AitbcClient, head: number, signal: AbortSignal): Promise<NodeBlock[]> {
  const heights: number[] = [];
  for (let hgt = head; hgt >= 1 && heights.length < RECENT; hgt--) heights.push(hgt);
  return Promise.all(heights.map((hgt) => client.node.block(hgt, { signal })));
}

function chainStats(blocks: readonly NodeBlock[]): { interval: number | undefined; tps: number | undefined } {
  if (blocks.length < 2) return { interval: undefined, tps: undefined };
  const newest = blocks[0] as NodeBlock;
  const oldest = blocks[blocks.length - 1] as NodeBlock;
  const span = newest.header.timestamp - oldest.header.timestamp;
  if (span <= 0) return { interval: undefined, tps: undefined };
  const txs = blocks.slice(0, -1).reduce((n, b) => n + b.txs.length, 0);
  return { interval: span / (blocks.length - 1), tps: (txs * 1000) / span };
}

async function overview(ctx: AppContext, main: HTMLElement, announce: (m: string) => void, signal: AbortSignal) {
  const { client } = ctx;
  mount(main, h('h1', {}, 'Overview'), h('p', { class: 'muted' }, 'Loading…'));
  const [head, validators] = await Promise.all([client.node.head({ signal }), client.node.validators({ signal })]);
  let blocks = await recentBlocks(client, head.height, signal);
  const headEl = h('dd', { id: 'head-height' }, String(head.height));
  const intervalEl = h('dd', {});
  const tpsEl = h('dd', {});
  const blocksBox = h('div', {});
  const txsBox = h('div', {});
  const render = () => {
    const s = chainStats(blocks);
    headEl.textContent = String(blocks[0]?.height ?? head.height);
    intervalEl.textContent = s.interval === undefined ? '—' : `${(s.interval / 1000).toFixed(2)} s`;
    tpsEl.textContent = s.tps === undefined ? '—' : s.tps.toFixed(2);
    mount(
      blocksBox,
      table('Recent blocks', ['Height', 'Hash', 'Time', 'Txs', 'Proposer'], blocks.map(blockRow), 'No blocks yet.'),
    );
    const txs = blocks.flatMap((b) => b.txs.map((t) => ({ ...t, height: b.height }))).slice(0, RECENT);
    mount(
      txsBox,
      table(
        'Recent transactions',
        ['Id', 'Type', 'From', 'To / job', 'Amount', 'Block'],
        txs.map(txRow),
        'No transactions in the recent blocks.',
      ),
    );
  };
  const live = h('span', { class: 'badge', id: 'live-state' }, 'connecting…');
  mount(
    main,
    h('h1', {}, 'Overview ', live),
    h(
      'dl',
      { class: 'stats' },
      h('div', {}, h('dt', {}, 'Head height'), headEl),
      h('div', {}, h('dt', {}, 'Finality time (commit in next block)'), intervalEl),
      h('div', {}, h('dt', {}, 'Transactions / s'), tpsEl),
      h('div', {}, h('dt', {}, 'Validators'), h('dd', {}, link('#/validators', String(validators.length)))),
    ),
    blocksBox,
    txsBox,
  );
  render();
  // Live: follow new blocks over the node's WebSocket (through the same-origin proxy).
  const sub = client.node.subscribeBlocks({
    fromHeight: head.height + 1,
    signal,
    onStatus: (st) => {
      live.textContent = st === 'open' ? 'live' : st;
      live.className = st === 'open' ? 'badge ok' : 'badge';
    },
  });
  try {
    for await (const b of sub) {
      blocks = [b, ...blocks].slice(0, RECENT);
      render();
      announce(`New block #${b.height} with ${b.txs.length} transaction${b.txs.length === 1 ? '' : 's'}.`);
    }
  } catch (e) {
    if (signal.aborted) return;
    live.textContent = 'offline';
    live.className = 'badge bad';
    main.append(errorPanel('Live updates stopped', e));
  }
}

async function blockView(ctx: AppContext, main: HTMLElement, id: string, signal: AbortSignal) {
  const { client } = ctx;
  const b = await client.node.block(/^\d+$/.test(id) ? Number(id) : id, { signal });
  const next = await client.node.block(b.height + 1, { signal }).catch((e) => {
    if (isApiError(e) && e.status === 404) return undefined;
    throw e;
  });
  const finalityEl = h('span', { id: 'finality' });
  const commitBox = h('div', {});
  const showCommit = (commit: CommitJson | null) => {
    let finality: Child = 'Not final yet: its commit travels in the next block (watching live).';
    if (commit !== null && ctx.config.validators !== undefined) {
      try {
        const r = verifyFinalHeader(b.header, commit, trustedValidatorSet(ctx.config.validators));
        finality = badge(true, `verified: ${r.signedPower} of the pinned validators' power signed`);
      } catch (e) {
        finality = badge(false, `not verified: ${describeError(e)}`);
      }
    } else if (commit !== null) finality = 'Committed (no pinned validators to verify against).';
    mount(finalityEl, finality);
    mount(
      commitBox,
      panel(
        'Commit signatures',
        commit === null
          ? h('p', { class: 'empty' }, 'No commit for this block yet.')
          : table(
              `Precommits for block #${b.height} (carried in block #${b.height + 1})`,
              ['Validator', 'Signature'],
              commit.signatures.map((s) => [addrLink(s.validator), code(shortId(s.signature, 12))]),
              'No signatures.',
            ),
      ),
    );
  };
  const hd = b.header;
  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': 'Neighbouring blocks' },
    b.height > 1 ? link(`#/block/${b.height - 1}`, '← Previous') : null,
    next !== undefined ? link(`#/block/${b.height + 1}`, 'Next →') : null,
  );
  mount(
    main,
    h('h1', {}, `Block #${b.height}`),
    pager,
    panel(
      'Header',
      fields([
        ['Hash', code(b.hash)],
        ['Height', code(hd.height)],
        ['Round', code(hd.round)],
        ['Time', formatTime(hd.timestamp)],
        [
          'Parent',
          hd.height > 1 ? link(`#/block/${hd.height - 1}`, shortId(hd.parentHash), hd.parentHash) : code(hd.parentHash),
        ],
        ['Proposer', addrLink(hd.proposer)],
        ['Chain', code(hd.chainId)],
        ['Tx root', code(hd.txRoot)],
        ['State root', code(hd.stateRoot)],
        ['Validators hash', code(hd.validatorsHash)],
        ['Last commit hash', code(hd.lastCommitHash)],
        ['Finality', finalityEl],
      ]),
    ),
    commitBox,
    table(
      `Transactions (${b.txs.length})`,
      ['Id', 'Type', 'From', 'To / job', 'Amount', 'Block'],
      b.txs.map((t) => txRow({ ...t, height: b.height })),
      'This block has no transactions.',
    ),
  );
  showCommit(next?.lastCommit ?? null);
  if (next !== undefined) return;
  // The head block: its commit comes with the next block, over the WebSocket.
  for await (const nb of ctx.client.node.subscribeBlocks({ fromHeight: b.height + 1, signal })) {
    showCommit(nb.lastCommit);
    pager.append(link(`#/block/${b.height + 1}`, 'Next →'));
    break;
  }
}

async function txView(ctx: AppContext, main: HTMLElement, id: string, signal: AbortSignal) {
  const tx = await ctx.client.node.tx(id, { signal });
  mount(
    main,
    h('h1', {}, 'Transaction'),
    panel(
      'Summary',
      fields([
        ['Id', code(tx.id)],
        ['Status', badge(tx.status !== 'pending', tx.status ?? 'committed')],
        ['Block', tx.height !== undefined ? blockLink(tx.height) : 'not in a block yet'],
        ['Index in block', tx.index !== undefined ? code(tx.index) : undefined],
        ...txFields(tx),
      ]),
    ),
  );
}

async function addressView(ctx: AppContext, main: HTMLElement, address: string, signal: AbortSignal) {
  const { client, config } = ctx;
  const account = await client.node.account(address, { signal });
  const proofEl = h('span', { id: 'proof-state', class: 'badge' }, 'verifying…');
  const txBox = h('div', {});
  mount(
    main,
    h('h1', {}, 'Address'),
    panel(
      'Account',
      fields([
        ['Address', code(address)],
        ['Balance', h('span', { id: 'balance' }, formatAmount(account.balance))],
        ['Nonce', code(account.nonce)],
        ['As of block', blockLink(account.height)],
        ['Balance proof', proofEl],
      ]),
      config.validators === undefined
        ? h(
            'p',
            { class: 'muted' },
            'No validators are pinned in /config.json: the proof is checked against the node’s own list (trust on first use).',
          )
        : null,
    ),
    txBox,
  );
  const validators: readonly NodeValidator[] | NonNullable<typeof config.validators> =
    config.validators ?? (await client.node.validators({ signal }));
  client
    .verifyAccount(address, { validators, signal, commitWaitMs: 20_000 })
    .then((v) => {
      proofEl.textContent = `verified at block #${v.height}: ${formatAmount(v.balance)}, nonce ${v.nonce}`;
      proofEl.className = 'badge ok';
    })
    .catch((e) => {
      if (signal.aborted) return;
      proofEl.textContent = `not verified: ${describeError(e)}`;
      proofEl.className = 'badge bad';
    });
  const page = async (cursor?: string) => {
    const p = await client.node.txsByAddressPage(address, { limit: 10, signal, ...(cursor ? { cursor } : {}) });
    mount(
      txBox,
      table(
        'Transactions (newest first)',
        ['Id', 'Type', 'From', 'To / job', 'Amount', 'Block'],
        p.items.map(txRow),
        'No transactions for this address.',
      ),
      p.nextCursor !== null
        ? h(
            'button',
            { type: 'button', onclick: () => void page(p.nextCursor ?? undefined).catch(showErr) },
            'Older transactions',
          )
        : null,
    );
  };
  const showErr = (e: unknown) => txBox.append(errorPanel('Transactions could not be loaded', e));
  await page();
}

function receiptView(ctx: AppContext, r: Receipt): HTMLElement {
  const trust = ctx.config.coordinatorPublicKey;
  const check = trust === undefined ? undefined : checkReceipt(r, { coordinatorKeys: [trust] });
  const sig = (role: 'miner' | 'coordinator') => {
    if (check === undefined) return 'no coordinator key pinned in /config.json';
    const s = check.signatures.filter((x) => x.role === role);
    if (s.length === 0) return badge(false, 'missing');
    const good = s.find((x) => x.valid && x.reason === undefined);
    return good
      ? badge(true, 'verified')
      : badge(false, `not verified (${s.map((x) => x.reason ?? 'invalid').join(', ')})`);
  };
  return panel(
    `Receipt ${shortId(r.receipt_id)}`,
    fields([
      ['Receipt id', code(r.receipt_id)],
      ['Job', jobLink(r.job_id)],
      ['Provider (miner)', addrLink(r.provider)],
      ['Client', addrLink(r.client)],
      ['Status', code(r.status ?? '—')],
      ['Units', code(`${String(r.units)} ${r.unit_type}`)],
      ['Unit price', formatAmount(r.unit_price === undefined ? undefined : String(r.unit_price))],
      ['Price', formatAmount(r.price === undefined ? undefined : String(r.price))],
      ['Started', formatTime(r.started_at * 1000)],
      ['Completed', formatTime(r.completed_at * 1000)],
      ['Coordinator', code(r.coordinator_id ?? '—')],
      ['Miner signature', h('span', { class: 'sig-miner' }, sig('miner'))],
      ['Coordinator signature', h('span', { class: 'sig-coordinator' }, sig('coordinator'))],
      ['Receipt', check === undefined ? '—' : badge(check.ok, check.ok ? 'verified' : 'not verified')],
    ]),
  );
}

async function jobView(ctx: AppContext, main: HTMLElement, jobId: string, signal: AbortSignal) {
  const escrow = await ctx.client.node.escrow(jobId, { signal }).catch((e) => {
    if (isApiError(e) && e.status === 404) return undefined;
    throw e;
  });
  const receiptsBox = h('div', {});
  mount(
    main,
    h('h1', {}, 'Job'),
    panel(
      'Escrow on chain',
      escrow === undefined
        ? h('p', { class: 'empty' }, 'No escrow is locked on chain for this job id.')
        : fields([
            ['Job', code(escrow.jobId)],
            ['Status', h('span', { id: 'escrow-status' }, badge(escrow.status !== 'refunded', escrow.status))],
            ['Client', addrLink(escrow.client)],
            ['Coordinator', addrLink(escrow.coordinator)],
            ['Amount locked', formatAmount(escrow.amount)],
            ['Provider paid', addrLink(escrow.provider)],
            ['Paid', formatAmount(escrow.paid)],
            ['Refund after block', code(escrow.expiresAtHeight)],
            ['Receipt id', code(escrow.receiptId)],
          ]),
    ),
    receiptsBox,
  );
  const token = sessionToken();
  if (ctx.config.coordinator === undefined) return;
  if (token === undefined) {
    mount(
      receiptsBox,
      panel(
        'Receipts',
        h(
          'p',
          {},
          'Receipts are shown to the job’s client: ',
          link('/marketplace/#/wallet', 'sign in on the marketplace'),
          ' first.',
        ),
      ),
    );
    return;
  }
  const client = ctx.withToken(token);
  try {
    const page = await client.jobs.receiptsPage(jobId, { signal, limit: 20 });
    mount(
      receiptsBox,
      page.items.length === 0
        ? panel('Receipts', h('p', { class: 'empty' }, 'No receipt yet.'))
        : page.items.map((r) => receiptView(ctx, r)),
    );
  } catch (e) {
    mount(receiptsBox, errorPanel('Receipts could not be loaded', e));
  }
}

async function jobsView(ctx: AppContext, main: HTMLElement, signal: AbortSignal) {
  const token = sessionToken();
  if (token === undefined || ctx.config.coordinator === undefined) {
    mount(
      main,
      h('h1', {}, 'Jobs and receipts'),
      h(
        'p',
        {},
        'Look a job up by id with the search box, or ',
        link('/marketplace/#/wallet', 'sign in on the marketplace'),
        ' to list your jobs.',
      ),
    );
    return;
  }
  const page = await ctx.withToken(token).jobs.listPage({ signal, limit: 25 });
  mount(
    main,
    h('h1', {}, 'Jobs and receipts'),
    table(
      'Your jobs (newest first)',
      ['Job', 'Kind', 'State', 'Max price', 'Receipt', 'Updated'],
      page.items.map((j) => [
        jobLink(j.job_id),
        code(j.kind),
        code(j.state),
        formatAmount(j.max_price),
        j.receipt_id ? code(shortId(j.receipt_id)) : '—',
        formatTime(j.updated_at),
      ]),
      'You have no jobs yet.',
    ),
  );
}

async function validatorsView(ctx: AppContext, main: HTMLElement, signal: AbortSignal) {
  const vs = await ctx.client.node.validators({ signal });
  const pinnedList: readonly PinnedValidator[] = ctx.config.validators ?? [];
  const pinned = new Set(pinnedList.map((v) => v.publicKey.toLowerCase()));
  mount(
    main,
    h('h1', {}, 'Validators'),
    table(
      `${vs.length} validator${vs.length === 1 ? '' : 's'}`,
      ['Name', 'Address', 'Power', 'Public key', 'Pinned'],
      vs.map((v) => [
        v.name,
        addrLink(v.address),
        v.power,
        code(shortId(v.publicKey, 10)),
        pinned.has(v.publicKey.toLowerCase()) ? 'yes' : 'no',
      ]),
      'No validators.',
    ),
  );
}

/** Where a search term leads: height → block; `ait1…` → address; `job_…` → job; 64 hex → tx, else block hash. */
async function resolveSearch(ctx: AppContext, term: string): Promise<string | undefined> {
  const q = term.trim();
  if (q === '') return undefined;
  if (/^\d+$/.test(q)) return `#/block/${q}`;
  if (isAddress(q as unknown)) return `#/address/${q}`;
  if (/^job_[0-9a-z]{1,64}$/i.test(q)) return `#/job/${q}`;
  const hex = q.toLowerCase().replace(/^0x/, '');
  if (/^[0-9a-f]{64}$/.test(hex)) {
    const found = await ctx.client.node.tx(`0x${hex}`).then(
      () => true,
      (e) => (isApiError(e) && e.status === 404 ? false : Promise.reject(e)),
    );
    return found ? `#/tx/0x${hex}` : `#/block/${hex}`;
  }
  return `#/notfound/${encodeURIComponent(q)}`;
}

async function start() {
  const input = h('input', {
    id: 'search',
    type: 'search',
    name: 'q',
    placeholder: 'Height, hash, tx id, address, job id',
    autocomplete: 'off',
  });
  const form = h(
    'form',
    { class: 'search', role: 'search' },
    h('label', { for: 'search', class: 'visually-hidden' }, 'Search the chain'),
    input,
    h('button', { type: 'submit' }, 'Search'),
  );
  const shell = createShell(
    'AITBC explorer',
    '#/',
    [
      ['#/', 'Overview'],
      ['#/validators', 'Validators'],
      ['#/jobs', 'Jobs & receipts'],
    ],
    form,
  );
  const { main } = shell;
  let ctx: AppContext;
  try {
    ctx = await loadAppContext();
  } catch (e) {
    mount(main, errorPanel('The explorer cannot start', e));
    return;
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    resolveSearch(ctx, input.value)
      .then((target) => {
        if (target !== undefined) location.hash = target;
      })
      .catch((e) => mount(main, errorPanel('Search failed', e)));
  });
  // After an in-app navigation, focus moves to the new content (not on the first load: the skip
  // link stays the first stop of the keyboard).
  let navigations = 0;
  window.addEventListener('hashchange', () => {
    navigations++;
  });
  const guard =
    (heading: string, fn: (args: string[], signal: AbortSignal) => Promise<void>) =>
    async (args: string[], signal: AbortSignal) => {
      try {
        const focus = navigations > 0;
        if (focus) main.focus({ preventScroll: true });
        await fn(args, signal);
      } catch (e) {
        if (signal.aborted) return;
        mount(main, errorPanel(heading, e));
      }
    };
  startHashRouter(
    {
      '': guard('The chain could not be read', (_a, s) => overview(ctx, main, shell.announce, s)),
      block: guard('Block not found', (a, s) => blockView(ctx, main, a[0] ?? '', s)),
      tx: guard('Transaction not found', (a, s) => txView(ctx, main, a[0] ?? '', s)),
      address: guard('Address could not be read', (a, s) => addressView(ctx, main, a[0] ?? '', s)),
      job: guard('Job could not be read', (a, s) => jobView(ctx, main, a[0] ?? '', s)),
      jobs: guard('Jobs could not be listed', (_a, s) => jobsView(ctx, main, s)),
      validators: guard('Validators could not be read', (_a, s) => validatorsView(ctx, main, s)),
      notfound: (a) =>
        mount(
          main,
          h(
            'section',
            { class: 'panel error', role: 'alert' },
            h('h2', {}, 'Nothing matches'),
            h('p', {}, `“${a[0] ?? ''}” is not a height, hash, tx id, address or job id.`),
          ),
        ),
      '404': () => mount(main, h('h1', {}, 'Page not found'), h('p', {}, link('#/', 'Back to the overview'))),
    },
    shell.setCurrent,
  );
}

void start();
