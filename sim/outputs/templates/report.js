// The report's one script: the track player. It reads its data as JSON and writes text with
// textContent only, so no string from a scenario can become markup.
(function () {
  "use strict";
  var holder = document.getElementById("player");
  if (!holder) { return; }
  var data = JSON.parse(document.getElementById("player-data").textContent);
  var svgNS = "http://www.w3.org/2000/svg";
  var layer = document.getElementById("player-ships");
  var slider = document.getElementById("player-time");
  var label = document.getElementById("player-label");
  var button = document.getElementById("player-play");
  var words = ["in port or waiting", "laden", "in ballast", "idle between runs"];
  var dots = data.ships.map(function (ship) {
    var c = document.createElementNS(svgNS, "circle");
    c.setAttribute("r", "5");
    var t = document.createElementNS(svgNS, "title");
    c.appendChild(t);
    layer.appendChild(c);
    return { el: c, title: t, ship: ship };
  });
  function show(i) {
    var atSea = 0, laden = 0, idle = 0, shown = 0;
    dots.forEach(function (d) {
      var x = d.ship.x[i], y = d.ship.y[i], s = d.ship.s[i];
      if (x === null || y === null) { d.el.setAttribute("visibility", "hidden"); return; }
      shown += 1;
      d.el.setAttribute("visibility", "visible");
      d.el.setAttribute("cx", String(x));
      d.el.setAttribute("cy", String(y));
      d.el.setAttribute("class", "ship s" + s);
      d.title.textContent = d.ship.name + ": " + words[s];
      if (s === 1 || s === 2) { atSea += 1; }
      if (s === 1) { laden += 1; }
      if (s === 3) { idle += 1; }
    });
    label.textContent = data.times[i] + " UTC: " + atSea + " at sea (" + laden + " laden), " +
      (shown - atSea - idle) + " in port or waiting, " + idle + " idle between runs";
    holder.setAttribute("data-step", String(i));
  }
  slider.max = String(data.times.length - 1);
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  var timer = null;
  button.addEventListener("click", function () {
    if (timer !== null) { clearInterval(timer); timer = null; button.textContent = "Play"; return; }
    button.textContent = "Pause";
    timer = setInterval(function () {
      var i = (Number(slider.value) + 1) % data.times.length;
      slider.value = String(i);
      show(i);
    }, 50);
  });
  show(0);
}());
