(function () {
  function openTo(el) {
    for (var p = el.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") { p.open = true; }
    }
  }
  function go() {
    var id = decodeURIComponent(location.hash.slice(1)) || document.body.getAttribute("data-focus");
    if (!id) { return; }
    var el = document.getElementById(id);
    if (el) { openTo(el); el.scrollIntoView({block: "start"}); }
  }
  window.addEventListener("hashchange", go);
  document.addEventListener("DOMContentLoaded", function () {
    var all = document.querySelectorAll("button[data-open]");
    for (var i = 0; i < all.length; i++) {
      all[i].addEventListener("click", function (ev) {
        var open = ev.target.getAttribute("data-open") === "1";
        var ds = document.querySelectorAll("main details:not(.sub)");
        for (var j = 0; j < ds.length; j++) { ds[j].open = open; }
      });
    }
    go();
  });
})();
