// Server contract: none; shows the Stream's state ("connecting", "reconnecting", "connected",
// "ended") in the #connection-status live region (role=status) and on <body data-connection>.
// "Reconnecting" stays visible while the socket is down; "Connected" is announced briefly.

const CONNECTED_NOTICE_MS = 2500;
const SLOW_CONNECT_MS = 1500;

export function makeConnectionBanner(element, strings, onEnded) {
  let timer = null;
  let wasDown = false;

  function show(text) {
    clearTimeout(timer);
    element.textContent = text;
  }

  return function setStatus(state) {
    document.body.dataset.connection = state;
    if (state === "connecting") {
      clearTimeout(timer);
      timer = setTimeout(() => { element.textContent = strings.connecting; }, SLOW_CONNECT_MS);
    } else if (state === "reconnecting") {
      wasDown = true;
      show(strings.reconnecting);
    } else if (state === "connected") {
      show(wasDown ? strings.connected : "");
      wasDown = false;
      timer = setTimeout(() => { element.textContent = ""; }, CONNECTED_NOTICE_MS);
    } else if (state === "ended") {
      show(strings.session_ended);
      onEnded();
    }
  };
}
