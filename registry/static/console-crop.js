// The console's photo crop preview (registry/templates/console/catalog_product.html): shows
// the chosen picture with the crop frame, which a drag moves; the frame is the four number
// fields (the picture's own pixels) that the form posts and the server crops by (Pillow).
// Without this script the fields still work when typed.
(function () {
  "use strict";
  var file = document.getElementById("photo-file");
  var canvas = document.getElementById("crop-preview");
  if (!file || !canvas) return;
  var fields = ["crop_x", "crop_y", "crop_w", "crop_h"].map(function (id) {
    return document.getElementById(id);
  });
  var picture = null, scale = 1, drag = null;

  function box() {
    return fields.map(function (f) { return parseInt(f.value, 10) || 0; });
  }
  function setBox(x, y, w, h) {
    w = Math.max(1, Math.min(w, picture.width));
    h = Math.max(1, Math.min(h, picture.height));
    x = Math.max(0, Math.min(x, picture.width - w));
    y = Math.max(0, Math.min(y, picture.height - h));
    [x, y, w, h].forEach(function (v, i) { fields[i].value = Math.round(v); });
  }
  function draw() {
    if (!picture) return;
    var ctx = canvas.getContext("2d"), b = box();
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(picture, 0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "rgba(0,0,0,0.55)";
    var x = b[0] * scale, y = b[1] * scale, w = b[2] * scale, h = b[3] * scale;
    ctx.fillRect(0, 0, canvas.width, y);
    ctx.fillRect(0, y + h, canvas.width, canvas.height - y - h);
    ctx.fillRect(0, y, x, h);
    ctx.fillRect(x + w, y, canvas.width - x - w, h);
    ctx.strokeStyle = "#f4c430";
    ctx.lineWidth = 3;
    ctx.strokeRect(x, y, w, h);
  }
  file.addEventListener("change", function () {
    var chosen = file.files && file.files[0];
    if (!chosen) return;
    var reader = new FileReader();  // a data: URL (the pages' CSP allows no blob: images)
    reader.onload = function () {
      var img = new Image();
      img.onload = function () {
        picture = img;
        scale = Math.min(480 / img.width, 360 / img.height, 1);
        canvas.width = Math.max(1, Math.round(img.width * scale));
        canvas.height = Math.max(1, Math.round(img.height * scale));
        canvas.hidden = false;
        var side = Math.min(img.width, img.height);  // a centred square to begin with
        setBox((img.width - side) / 2, (img.height - side) / 2, side, side);
        draw();
      };
      img.src = reader.result;
    };
    reader.readAsDataURL(chosen);
  });
  fields.forEach(function (f) { f.addEventListener("input", draw); });
  function at(event) {
    var r = canvas.getBoundingClientRect();
    return [(event.clientX - r.left) / scale, (event.clientY - r.top) / scale];
  }
  canvas.addEventListener("pointerdown", function (event) {
    if (!picture) return;
    var p = at(event), b = box();
    drag = [p[0] - b[0], p[1] - b[1]];
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var p = at(event), b = box();
    setBox(p[0] - drag[0], p[1] - drag[1], b[2], b[3]);
    draw();
  });
  canvas.addEventListener("pointerup", function () { drag = null; });
})();
