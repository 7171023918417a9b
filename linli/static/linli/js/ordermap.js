/* The map of open work orders (/orders/map/): one circle per order, coloured by its light.
 *
 * CSP-compatible: no inline script or style attributes; the data comes from the JSON endpoint
 * named in the container's data-src, every text goes in with textContent. Without a tile URL
 * (data-tiles empty) the points are drawn on a blank background, so the map works offline.
 */
(function () {
  "use strict";

  var COLOURS = { red: "#c62828", yellow: "#f9a825", green: "#2e7d32", "": "#607d8b" };

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return key in values ? String(values[key]) : "";
    });
  }

  function popup(order, label) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = "#" + order.id + " " + order.category;
    box.appendChild(title);
    var state = document.createElement("div");
    state.textContent = order.state + (order.grid ? " · " + order.grid : "");
    box.appendChild(state);
    var link = document.createElement("a");
    link.href = order.url;
    link.textContent = label;
    box.appendChild(link);
    return box;
  }

  function draw(el, status, data) {
    var map = L.map(el, { preferCanvas: true, attributionControl: !!el.dataset.tiles });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
    }
    var bounds = [];
    data.orders.forEach(function (order) {
      var colour = COLOURS[order.light] || COLOURS[""];
      L.circleMarker([order.lat, order.lng], {
        radius: 7,
        color: colour,
        fillColor: colour,
        fillOpacity: 0.8,
        weight: 1,
      })
        .bindPopup(popup(order, el.dataset.labelOpen))
        .addTo(map);
      bounds.push([order.lat, order.lng]);
    });
    if (bounds.length) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
    } else {
      map.setView([31.2, 121.45], 12);
    }
    var parts = [
      fill(data.shown < data.total ? el.dataset.labelShown : el.dataset.labelAll, {
        shown: data.shown,
        total: data.total,
      }),
    ];
    if (data.unplaced) {
      parts.push(fill(el.dataset.labelUnplaced, { n: data.unplaced }));
    }
    status.textContent = parts.join(" ");
  }

  function start() {
    var el = document.getElementById("order-map");
    var status = document.getElementById("order-map-status");
    if (!el || typeof L === "undefined") {
      return;
    }
    el.style.height = "60vh";
    el.style.minHeight = "320px";
    fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        draw(el, status, data);
      })
      .catch(function () {
        status.textContent = el.dataset.labelFailed;
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
