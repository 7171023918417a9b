// The report form: "use my location" fills the hidden lat/lng fields; chosen photos are
// previewed; picking a category by hand stops the suggestions from replacing it.
// Plain script, no inline code (the Content-Security-Policy allows only our own files).
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var form = document.getElementById("report-form");
    if (!form) return;
    var button = document.getElementById("use-location");
    var status = document.getElementById("location-status");
    var lat = form.querySelector("input[name=lat]");
    var lng = form.querySelector("input[name=lng]");

    function say(text) {
      if (status) status.textContent = text;
    }

    if (button) {
      if (!("geolocation" in navigator)) {
        button.hidden = true;
      }
      button.addEventListener("click", function () {
        say(form.dataset.locating);
        navigator.geolocation.getCurrentPosition(
          function (position) {
            lat.value = position.coords.latitude.toFixed(6);
            lng.value = position.coords.longitude.toFixed(6);
            say(form.dataset.located + " (" + lat.value + ", " + lng.value + ")");
            lat.dispatchEvent(new Event("change", { bubbles: true }));
          },
          function () {
            say(form.dataset.unlocated);
          },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
        );
      });
    }

    var photos = form.querySelector("input[name=photos]");
    var preview = document.getElementById("photo-preview");
    if (photos && preview) {
      photos.addEventListener("change", function () {
        preview.textContent = "";
        Array.prototype.forEach.call(photos.files, function (file) {
          if (!/^image\//.test(file.type)) return;
          var reader = new FileReader();
          reader.addEventListener("load", function () {
            var img = document.createElement("img");
            img.src = reader.result; // a data: URL, which the policy allows
            img.alt = file.name;
            preview.appendChild(img);
          });
          reader.readAsDataURL(file);
        });
      });
    }

    // The category select is replaced by htmx: listen on the form.
    form.addEventListener("change", function (event) {
      if (event.target && event.target.name === "category") {
        var chosen = form.querySelector("input[name=category_chosen]");
        if (chosen) chosen.value = event.target.value ? "True" : "";
      }
    });
  });
})();
