import { generateKeyPair, hexToBytes } from '@aitbc/crypto';
import { createLocalSigner, type JobPayer, type JobProgress, type MarketOffer, type TxSigner } from '@aitbc/sdk';
import { type AppContext, loadAppContext, sessionToken, setSessionToken } from '../shared/appConfig.js';
import { createShell, describeError, errorPanel, panel, startHashRouter } from '../shared/appShell.js';
import { type Child, fields, h, mount, table } from '../shared/dom.js';
import { formatAmount, formatTime, parseAmount, shortId } from '../shared/format.js';
import '../shared/styles.css';

/** Who pays in this tab: a browser key (kept in memory only) or a wallet-daemon session. */
interface Payer {
  readonly address: string;
  readonly payer: JobPayer;
  readonly label: string;
  /** The wallet daemon's bearer token (wallet-daemon wallets only; memory only). */
  readonly walletToken?: string;
}

let payer: Payer | undefined;

const code = (s: string | number | null | undefined) => h('code', {}, s === null || s === undefined ? '—' : String(s));
const explorer = (path: string, text: string, title?: string) =>
  h('a', { href: `/explorer/#/${path}`, ...(title ? { title } : {}) }, text);
const badge = (ok: boolean, text: string) => h('span', { class: ok ? 'badge ok' : 'badge bad' }, text);

/** A labelled form control. */
function control(
  id: string,
  label: string,
  el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
) {
  el.id = id;
  if (hint !== undefined) el.setAttribute('aria-describedby', `${id}-hint`);
  return h(
    'div',
    { class: 'control' },
    h('label', { for: id }, label),
    el,
    hint ? h('small', { id: `${id}-hint` }, hint) : null,
  );
}

const input = (attrs: Record<string, string | boolean>) => h('input', { type: 'text', ...attrs });

function offerRow(o: MarketOffer): Child[] {
  return [
    code(shortId(o.offer_id)),
    code(o.miner_id),
    o.job_kinds.join(', '),
    o.gpus.length === 0
      ? `${o.cpu_cores} CPU · ${o.ram_gb} GB`
      : o.gpus.map((g) => `${g.model} ${g.vram_gb} GB`).join(', '),
    o.region,
    formatAmount(o.price_per_unit),
    `${o.available} / ${o.slots}`,
    formatTime(o.expires_at),
  ];
}

async function offersView(ctx: AppContext, main: HTMLElement, signal: AbortSignal) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const kind = input({ name: 'kind', value: params.get('kind') ?? '' });
  const region = input({ name: 'region', value: params.get('region') ?? '' });
  const maxPrice = input({ name: 'max', inputmode: 'decimal', value: params.get('max') ?? '' });
  const box = h('div', {});
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter offers' },
    control('f-kind', 'Job kind', kind, 'e.g. hash'),
    control('f-region', 'Region', region),
    control('f-max', 'Max price per unit (AIT)', maxPrice),
    h('button', { type: 'submit' }, 'Filter'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    if (kind.value.trim()) q.set('kind', kind.value.trim());
    if (region.value.trim()) q.set('region', region.value.trim());
    if (maxPrice.value.trim()) q.set('max', maxPrice.value.trim());
    location.hash = `#/?${q}`;
  });
  mount(main, h('h1', {}, 'Offers'), form, box);
  const max = params.get('max');
  const maxBase = max === null ? undefined : parseAmount(max);
  if (max !== null && maxBase === undefined) {
    mount(box, h('p', { role: 'alert', class: 'error-text' }, 'The max price must be a decimal amount of AIT.'));
    return;
  }
  const page = await ctx.client.coordinator.market.offersPage(
    {
      ...(params.get('kind') ? { jobKind: params.get('kind') as string } : {}),
      ...(params.get('region') ? { region: params.get('region') as string } : {}),
      ...(maxBase !== undefined ? { maxPricePerUnit: maxBase } : {}),
    },
    { signal, limit: 50 },
  );
  mount(
    box,
    table(
      'Miners’ capacity and price',
      ['Offer', 'Miner', 'Job kinds', 'Capacity', 'Region', 'Price / unit', 'Free slots', 'Expires'],
      page.items.map(offerRow),
      'No open offers match.',
    ),
  );
}

async function bidsView(ctx: AppContext, main: HTMLElement, signal: AbortSignal) {
  const page = await ctx.client.coordinator.market.bidsPage({}, { signal, limit: 50 });
  mount(
    main,
    h('h1', {}, 'Bids'),
    h('p', {}, h('a', { href: '#/bid' }, 'Place a bid')),
    table(
      'Open bids',
      ['Bid', 'Job kind', 'Max price / unit', 'Quantity', 'Filled', 'State', 'Expires'],
      page.items.map((b) => [
        code(shortId(b.bid_id)),
        b.job_kind,
        formatAmount(b.max_price_per_unit),
        b.quantity,
        b.filled,
        b.state,
        formatTime(b.expires_at),
      ]),
      'No open bids.',
    ),
  );
}

async function statsView(ctx: AppContext, main: HTMLElement, signal: AbortSignal) {
  const s = await ctx.client.coordinator.market.stats({ signal });
  mount(
    main,
    h('h1', {}, 'Market stats'),
    h(
      'dl',
      { class: 'stats' },
      h('div', {}, h('dt', {}, 'Open offers'), h('dd', {}, s.offers_open)),
      h('div', {}, h('dt', {}, 'Open bids'), h('dd', {}, s.bids_open)),
      h('div', {}, h('dt', {}, 'Matches'), h('dd', {}, s.matches)),
      h('div', {}, h('dt', {}, 'Units matched'), h('dd', {}, s.units_matched)),
      h('div', {}, h('dt', {}, 'Volume'), h('dd', {}, formatAmount(s.volume))),
    ),
    table(
      'By job kind',
      ['Kind', 'Offers', 'Bids', 'Matches', 'Volume', 'Median match price', 'Median offer price'],
      Object.entries(s.by_kind).map(([k, v]) => [
        k,
        v.offers_open,
        v.bids_open,
        v.matches,
        formatAmount(v.volume),
        formatAmount(v.median_match_price_per_unit),
        formatAmount(v.median_offer_price_per_unit),
      ]),
      'No activity yet.',
    ),
  );
}

function signedInPanel(ctx: AppContext): HTMLElement {
  if (payer === undefined || sessionToken() === undefined)
    return panel(
      'Not signed in',
      h('p', {}, 'Sign in with a browser key or a wallet-daemon wallet to bid and submit jobs.'),
    );
  const balance = h('span', { id: 'wallet-balance' }, '…');
  ctx.client.node
    .balance(payer.address)
    .then((b) => {
      balance.textContent = formatAmount(b);
    })
    .catch((e) => {
      balance.textContent = describeError(e);
    });
  return panel(
    'Signed in',
    fields([
      ['Address', explorer(`address/${payer.address}`, shortId(payer.address, 10), payer.address)],
      ['Wallet', payer.label],
      ['Balance', balance],
    ]),
    h(
      'button',
      {
        type: 'button',
        onclick: () => {
          payer = undefined;
          setSessionToken(undefined);
          location.hash = '#/wallet';
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        },
      },
      'Sign out',
    ),
  );
}

function walletView(ctx: AppContext, main: HTMLElement) {
  const out = h('div', { 'aria-live': 'polite' });
  const seed = h('input', { type: 'password', name: 'seed', autocomplete: 'off', spellcheck: 'false' });
  const keyForm = h(
    'form',
    { 'aria-label': 'Sign in with a browser key' },
    h('h2', {}, 'Browser key'),
    control(
      'seed',
      'Private key seed (64 hex characters)',
      seed,
      'Kept in this tab’s memory only; never sent anywhere.',
    ),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit' }, 'Sign in'),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            const k = generateKeyPair();
            seed.value = Array.from(k.seed, (b) => b.toString(16).padStart(2, '0')).join('');
            seed.type = 'text';
          },
        },
        'Generate a new key',
      ),
    ),
  );
  const wToken = h('input', { type: 'password', name: 'wallet-token', autocomplete: 'off' });
  const wId = input({ name: 'wallet-id' });
  const wPass = h('input', { type: 'password', name: 'wallet-pass', autocomplete: 'current-password' });
  const daemonForm = h(
    'form',
    { 'aria-label': 'Sign in with a wallet-daemon wallet' },
    h('h2', {}, 'Wallet daemon'),
    control('w-token', 'Daemon token', wToken, 'From the daemon’s token file.'),
    control('w-id', 'Wallet id', wId),
    control('w-pass', 'Passphrase', wPass),
    h('button', { type: 'submit' }, 'Unlock and sign in'),
  );
  const done = (p: Payer, token: string) => {
    payer = p;
    setSessionToken(token);
    mount(out, signedInPanel(ctx));
  };
  const failed = (e: unknown) => mount(out, errorPanel('Sign-in failed', e));
  keyForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    let signer: TxSigner;
    try {
      signer = createLocalSigner(hexToBytes(seed.value.trim().replace(/^0x/, ''), 32));
    } catch {
      mount(out, h('p', { role: 'alert', class: 'error-text' }, 'The seed must be 64 hex characters.'));
      return;
    }
    ctx
      .withToken()
      .login(signer)
      .then((s) => done({ address: signer.address, payer: signer, label: 'browser key' }, s.token))
      .catch(failed);
  });
  daemonForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (ctx.config.wallet === undefined) {
      mount(out, h('p', { role: 'alert', class: 'error-text' }, 'This server does not proxy a wallet daemon.'));
      return;
    }
    const walletToken = wToken.value.trim();
    const client = ctx.withToken(undefined, walletToken);
    (async () => {
      const id = wId.value.trim();
      const info = await client.wallet.get(id);
      const { session } = await client.wallet.unlock(id, { passphrase: wPass.value });
      const s = await client.login({ walletId: id, session });
      done(
        { address: info.address, payer: { walletId: id, session }, label: `wallet daemon (${id})`, walletToken },
        s.token,
      );
    })().catch(failed);
  });
  mount(main, h('h1', {}, 'Wallet'), out, h('div', { class: 'columns' }, keyForm, daemonForm));
  mount(out, signedInPanel(ctx));
}

function requireSignIn(main: HTMLElement, title: string): void {
  mount(
    main,
    h('h1', {}, title),
    panel(
      'Sign in first',
      h('p', {}, h('a', { href: '#/wallet' }, 'Sign in'), ' with a browser key or a wallet to continue.'),
    ),
  );
}

function bidView(ctx: AppContext, main: HTMLElement) {
  if (payer === undefined || sessionToken() === undefined) return requireSignIn(main, 'Place a bid');
  const client = ctx.withToken(sessionToken(), payer.walletToken);
  const kind = input({ name: 'kind', value: 'hash', required: true });
  const price = input({ name: 'price', inputmode: 'decimal', value: '0.01', required: true });
  const qty = h('input', { type: 'number', name: 'quantity', min: '1', max: '1000', value: '1', required: true });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { 'aria-label': 'Place a bid' },
    control('b-kind', 'Job kind', kind),
    control('b-price', 'Max price per unit (AIT)', price),
    control('b-qty', 'Quantity (jobs)', qty),
    h('button', { type: 'submit' }, 'Place bid'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = parseAmount(price.value);
    if (p === undefined) {
      mount(out, h('p', { role: 'alert', class: 'error-text' }, 'The price must be a decimal amount of AIT.'));
      return;
    }
    client.coordinator.market
      .placeBid({ jobKind: kind.value.trim(), maxPricePerUnit: p, quantity: Number(qty.value) })
      .then(({ bid, matches }) =>
        mount(
          out,
          panel(
            'Bid placed',
            fields([
              ['Bid id', code(bid.bid_id)],
              ['State', code(bid.state)],
              [
                'Matches',
                matches.length === 0
                  ? 'none yet'
                  : matches.map((m) => `${m.miner_id} at ${formatAmount(m.price_per_unit)}`).join('; '),
              ],
            ]),
            h(
              'p',
              {},
              h('a', { href: `#/submit?bid=${encodeURIComponent(bid.bid_id)}` }, 'Submit a job under this bid'),
            ),
          ),
        ),
      )
      .catch((e) => mount(out, errorPanel('The bid was refused', e)));
  });
  mount(main, h('h1', {}, 'Place a bid'), form, out);
}

const STEP_TEXT: Record<JobProgress['type'], string> = {
  submitted: 'Job submitted to the coordinator',
  escrow_submitted: 'Escrow lock sent to the chain',
  escrow_locked: 'Escrow locked and final',
  state: 'Job state',
  receipt_verified: 'Receipt verified (miner and coordinator signatures)',
};

function submitView(ctx: AppContext, main: HTMLElement) {
  if (payer === undefined || sessionToken() === undefined) return requireSignIn(main, 'Submit a job');
  const me = payer;
  const client = ctx.withToken(sessionToken(), me.walletToken);
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const kind = input({ name: 'kind', value: 'hash', required: true });
  const data = h('textarea', { name: 'input', rows: 3, required: true }, '{"text":"hello from the browser"}');
  const price = input({ name: 'max-price', inputmode: 'decimal', value: '1', required: true });
  const bid = input({ name: 'bid', value: params.get('bid') ?? '' });
  const steps = h('ol', { id: 'progress', class: 'progress', 'aria-live': 'polite' });
  const out = h('div', {});
  const submit = h('button', { type: 'submit' }, 'Submit and pay');
  const form = h(
    'form',
    { 'aria-label': 'Submit a job' },
    control('j-kind', 'Job kind', kind),
    control('j-input', 'Input (JSON)', data),
    control('j-price', 'Max price (AIT, locked in escrow)', price),
    control('j-bid', 'Run under bid (optional)', bid),
    submit,
  );
  const step = (text: string, ok = true) => steps.append(h('li', { class: ok ? '' : 'bad' }, text));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.value);
    } catch {
      mount(out, h('p', { role: 'alert', class: 'error-text' }, 'The input must be JSON.'));
      return;
    }
    const maxPrice = parseAmount(price.value);
    if (maxPrice === undefined || maxPrice === 0n) {
      mount(out, h('p', { role: 'alert', class: 'error-text' }, 'The max price must be a positive amount of AIT.'));
      return;
    }
    submit.disabled = true;
    steps.replaceChildren();
    mount(out);
    let jobId: string | undefined;
    client.jobs
      .run({
        kind: kind.value.trim(),
        input: parsed,
        maxPrice,
        wallet: me.payer,
        ...(bid.value.trim() ? { bidId: bid.value.trim() } : {}),
        onProgress: (e) => {
          if (e.type === 'submitted') jobId = e.job.job_id;
          step(e.type === 'state' ? `${STEP_TEXT.state}: ${e.job.state}` : STEP_TEXT[e.type]);
        },
      })
      .then(async (run) => {
        const id = run.job.job_id;
        mount(
          out,
          panel(
            'Result',
            fields([
              ['Job', explorer(`job/${id}`, shortId(id), id)],
              ['Output', h('pre', {}, JSON.stringify(run.output, null, 2))],
              ['Receipt', badge(run.verification.ok, run.verification.ok ? 'verified' : 'not verified')],
              ['Price', formatAmount(String(run.receipt.price ?? ''))],
              ['Escrow tx', explorer(`tx/${run.escrowTxId}`, shortId(run.escrowTxId), run.escrowTxId)],
              ['Settlement', h('span', { id: 'settlement' }, 'waiting for the coordinator to settle on chain…')],
            ]),
          ),
        );
        const settlement = out.querySelector('#settlement') as HTMLElement;
        for (let i = 0; i < 120; i++) {
          const escrow = await client.node.escrow(id);
          if (escrow.status === 'settled') {
            settlement.replaceChildren(
              badge(true, `settled: ${formatAmount(escrow.paid)} paid to ${shortId(escrow.provider ?? '', 10)}`),
            );
            step('Settled on chain');
            return;
          }
          if (escrow.status === 'refunded') {
            settlement.replaceChildren(badge(false, 'refunded'));
            return;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
        settlement.replaceChildren(badge(false, 'not settled yet — see the job in the explorer'));
      })
      .catch((e) => {
        step(`Failed: ${describeError(e)}`, false);
        mount(
          out,
          errorPanel('The job did not complete', e),
          jobId ? h('p', {}, explorer(`job/${jobId}`, 'See the job in the explorer')) : null,
        );
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  mount(
    main,
    h('h1', {}, 'Submit a job'),
    h('p', {}, `Paying from ${me.label} `, code(shortId(me.address, 10))),
    form,
    h('h2', {}, 'Progress'),
    steps,
    out,
  );
}

async function start() {
  const shell = createShell('AITBC marketplace', '#/', [
    ['#/', 'Offers'],
    ['#/bids', 'Bids'],
    ['#/stats', 'Stats'],
    ['#/bid', 'Place bid'],
    ['#/submit', 'Submit job'],
    ['#/wallet', 'Wallet'],
  ]);
  const { main } = shell;
  let ctx: AppContext;
  try {
    ctx = await loadAppContext();
  } catch (e) {
    mount(main, errorPanel('The marketplace cannot start', e));
    return;
  }
  if (ctx.config.coordinator === undefined) {
    mount(main, errorPanel('The marketplace cannot start', new Error('This server does not proxy a coordinator.')));
    return;
  }
  const guard =
    (heading: string, fn: (signal: AbortSignal) => Promise<unknown> | unknown) =>
    async (_args: string[], signal: AbortSignal) => {
      try {
        await fn(signal);
      } catch (e) {
        if (!signal.aborted) mount(main, errorPanel(heading, e));
      }
    };
  startHashRouter(
    {
      '': guard('Offers could not be loaded', (s) => offersView(ctx, main, s)),
      bids: guard('Bids could not be loaded', (s) => bidsView(ctx, main, s)),
      stats: guard('Stats could not be loaded', (s) => statsView(ctx, main, s)),
      wallet: guard('Wallet', () => walletView(ctx, main)),
      bid: guard('Place a bid', () => bidView(ctx, main)),
      submit: guard('Submit a job', () => submitView(ctx, main)),
      '404': () => mount(main, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the offers'))),
    },
    (href) => shell.setCurrent(href.split('?')[0] ?? href),
  );
}

void start();
