// Plays VS Code's part for the run panel in a plain browser page (the harness): provides
// acquireVsCodeApi, records what the page posts, keeps its state the way VS Code does across a
// reload, answers requests, and lets the test deliver host messages. Loaded before dist/webview.js
// with the page's nonce, so it runs under the same Content Security Policy as the panel.
(() => {
  const params = new URLSearchParams(location.search);
  document.body.classList.add(`vscode-${params.get('theme') || 'dark'}`);

  const violations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
  });

  const STATE_KEY = 'finetune-harness-state';
  const posted = [];
  let acquired = false;
  const harness = {
    posted,
    violations,
    /** Error text for the next request's reply; undefined answers ok. */
    failNext: undefined,
    /** Request types whose replies wait for release(id) (a chatSend is answered when its reply ends). */
    hold: new Set(),
    held: new Map(),
    release(id, error) {
      if (!harness.held.delete(id)) throw new Error(`no held request ${id}`);
      const reply = error === undefined ? { type: 'reply', id, ok: true } : { type: 'reply', id, ok: false, error };
      harness.send(reply);
    },
    send(message) {
      window.dispatchEvent(new MessageEvent('message', { data: message }));
    },
    state() {
      const saved = sessionStorage.getItem(STATE_KEY);
      return saved === null ? undefined : JSON.parse(saved);
    },
  };
  window.harness = harness;

  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may only be called once');
    acquired = true;
    return {
      postMessage(message) {
        posted.push(structuredClone(message));
        if (typeof message.id === 'number' && harness.hold.has(message.type)) harness.held.set(message.id, true);
        else if (typeof message.id === 'number') {
          const error = harness.failNext;
          harness.failNext = undefined;
          const reply =
            error === undefined
              ? { type: 'reply', id: message.id, ok: true }
              : { type: 'reply', id: message.id, ok: false, error };
          setTimeout(() => harness.send(reply), 0);
        }
      },
      getState: () => harness.state(),
      setState(state) {
        sessionStorage.setItem(STATE_KEY, JSON.stringify(state));
      },
    };
  };
})();
