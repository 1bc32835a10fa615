// Turn on notices on this phone: register the service worker, subscribe with the service's
// VAPID key and hand the subscription to the service. Pages work without it.
(function () {
  const button = document.getElementById("push-on");
  if (!button || !("serviceWorker" in navigator) || !("PushManager" in window)) return;
  button.hidden = false;
  const status = document.getElementById("push-status");
  function key(text) {
    const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }
  button.addEventListener("click", async () => {
    try {
      const registration = await navigator.serviceWorker.register("/push-worker.js", {scope: "/"});
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: key(button.dataset.key),
      });
      const answer = await fetch("/notices/push", {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": button.dataset.csrf},
        body: JSON.stringify(subscription.toJSON()),
      });
      status.textContent = answer.ok ? button.dataset.done : button.dataset.failed;
    } catch (error) {
      status.textContent = button.dataset.failed;
    }
  });
})();
