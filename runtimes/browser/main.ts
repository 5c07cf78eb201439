/**
 * The explorer app's entry: a hash router over four views — the run list (#/runs), one run
 * (#/run/PATH), the barrier of two checkpoints (#/barrier) and a fork run in the page
 * (#/fork). Hash routes work the same under `ridgeline serve` and on a static site, where
 * there is no server to answer other paths.
 */
import { MATH_CHOICES, type MathMode } from '../../core/math_mode.ts';
import { BACKEND_CHOICES, type BackendChoice } from '../../core/select_backend.ts';
import { pickFromRun, setupBarrierView } from './barrier_view.ts';
import { setupForkView } from './fork_view.ts';
import { showRun } from './run_view.ts';
import { runFolderUrl, showRuns } from './runs_view.ts';

const VIEWS = ['runs', 'run', 'barrier', 'fork'] as const;

/** What each form's backend menu says of the CLI's --backend choices (one list for every form). */
const BACKEND_LABELS: Record<BackendChoice, string> = {
  auto: 'auto (hardware WebGPU, else CPU)',
  cpu: 'cpu (WebAssembly)',
  webgpu: 'webgpu',
};
for (const select of Array.from(document.querySelectorAll<HTMLSelectElement>('select[data-backend-choices]'))) {
  for (const choice of BACKEND_CHOICES) select.add(new Option(BACKEND_LABELS[choice], choice));
}
/** The CLI's --math choices, as each form's math menu says them. */
const MATH_LABELS: Record<MathMode, string> = {
  strict: 'strict (the same bits everywhere)',
  relaxed: 'relaxed (fused multiply-add, CPU backend)',
};
for (const select of Array.from(document.querySelectorAll<HTMLSelectElement>('select[data-math-choices]'))) {
  for (const choice of MATH_CHOICES) select.add(new Option(MATH_LABELS[choice], choice));
}

function route(): void {
  const [, name = 'runs', ...rest] = location.hash.split('/');
  const view = (VIEWS as readonly string[]).includes(name) ? name : 'runs';
  for (const v of VIEWS) document.getElementById(`view-${v}`)!.hidden = v !== view;
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('nav a'))) {
    a.classList.toggle('active', a.dataset.view === (view === 'run' ? 'runs' : view));
  }
  if (view === 'runs') void showRuns();
  if (view === 'run') void showRun(decodeURIComponent(rest.join('/')));
  // #/barrier/RUN/CELL: a fork cell's pair, picked from its run view.
  if (view === 'barrier') document.getElementById('barrier-picked')!.hidden = true;
  if (view === 'barrier' && rest.length === 2) {
    const run = decodeURIComponent(rest[0]);
    void pickFromRun(runFolderUrl(run), run, Number(rest[1]));
  }
}

setupForkView();
setupBarrierView();
globalThis.addEventListener('hashchange', route);
route();
