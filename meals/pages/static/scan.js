// Check-in: read a meal card's QR with the device camera where the browser can
// (BarcodeDetector); otherwise the typed card number works as before.
(function () {
  var button = document.getElementById("scan");
  var input = document.getElementById("card");
  var video = document.getElementById("camera");
  if (!button || !input || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    var stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.hidden = false;
    video.srcObject = stream;
    await video.play();
    async function look() {
      var codes = await detector.detect(video);
      if (codes.length) {
        stream.getTracks().forEach(function (track) { track.stop(); });
        input.value = codes[0].rawValue;
        input.form.submit();
        return;
      }
      requestAnimationFrame(look);
    }
    look();
  });
})();
