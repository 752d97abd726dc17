// The console's only script (served from /console/static/: the CSP forbids inline script).
// - Live: listens to /console/events; on a change it re-reads the current page and swaps in each
//   [data-live] region (by id), leaving a region alone while the operator is typing in it.
// - Says when the connection to Whistle is lost (and catches up once it is back).
// - Narrows table rows as one types in a search box with data-filter-rows.
// - Draws the uPlot charts of [data-series] sections.
'use strict';

(function () {
  var banner = null;
  var pending = null;
  var refreshing = false;
  var again = false;

  function showBanner(text) {
    if (!banner) return;
    banner.textContent = text;
    banner.hidden = false;
    document.body.classList.add('offline');
  }

  function hideBanner() {
    if (!banner) return;
    banner.hidden = true;
    document.body.classList.remove('offline');
  }

  function typingIn(el) {
    var a = document.activeElement;
    return a && a !== document.body && el.contains(a) && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA' || a.tagName === 'SELECT');
  }

  function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    fetch(location.href, { credentials: 'same-origin', headers: { 'x-whistle-live': '1' } })
      .then(function (res) {
        if (res.redirected && new URL(res.url).pathname === '/console/login') {
          showBanner('Your session ended. Sign in again.');
          return null;
        }
        return res.ok ? res.text() : null;
      })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var regions = document.querySelectorAll('[data-live]');
        for (var i = 0; i < regions.length; i++) {
          var el = regions[i];
          var fresh = doc.getElementById(el.id);
          if (!fresh) continue;
          if (typingIn(el)) {
            again = true;
            continue;
          }
          el.innerHTML = fresh.innerHTML;
        }
        document.title = doc.title;
        document.body.setAttribute('data-updated', String(Date.now()));
      })
      .catch(function () {
        /* the event stream reports the outage */
      })
      .then(function () {
        refreshing = false;
        if (again) {
          again = false;
          schedule(1000);
        }
      });
  }

  function schedule(ms) {
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () {
      pending = null;
      refresh();
    }, ms);
  }

  function connect(url) {
    var es = new EventSource(url);
    var opened = false;
    es.onopen = function () {
      if (opened) schedule(0); // back after an outage: catch up on what was missed
      opened = true;
      hideBanner();
      document.body.setAttribute('data-live-connected', '1');
    };
    es.addEventListener('change', function () {
      schedule(250);
    });
    es.onerror = function () {
      document.body.setAttribute('data-live-connected', '0');
      opened = true;
      showBanner('Connection to Whistle lost. Retrying…');
      // A closed stream (session ended, server gone for good) is reopened by hand; the browser
      // retries by itself only while the stream is CONNECTING.
      if (es.readyState === 2) {
        es.close();
        setTimeout(function () {
          connect(url);
        }, 3000);
      }
    };
  }

  function filterRows(input) {
    var rows = document.querySelectorAll(input.getAttribute('data-filter-rows'));
    var q = input.value.trim().toLowerCase();
    for (var i = 0; i < rows.length; i++) {
      var hay = (rows[i].getAttribute('data-search') || rows[i].textContent || '').toLowerCase();
      rows[i].hidden = q !== '' && hay.indexOf(q) < 0;
    }
  }

  function drawCharts(box) {
    if (typeof uPlot === 'undefined') return;
    fetch(box.getAttribute('data-series'), { credentials: 'same-origin' })
      .then(function (res) {
        return res.ok ? res.json() : null;
      })
      .then(function (s) {
        if (!s) return;
        var charts = box.querySelectorAll('.chart');
        for (var i = 0; i < charts.length; i++) {
          var el = charts[i];
          var key = el.getAttribute('data-key');
          if (s.t.length === 0) {
            el.textContent = 'No samples in this period.';
            el.classList.add('empty');
            continue;
          }
          var pctScale = key !== 'load';
          new uPlot(
            {
              width: Math.max(240, el.clientWidth || 320),
              height: 140,
              legend: { show: false },
              cursor: { drag: { x: false, y: false } },
              scales: { y: pctScale ? { range: [0, 100] } : { auto: true } },
              axes: [{ size: 30 }, { size: 40 }],
              series: [{}, { label: key, stroke: key === 'disk' ? '#b45309' : key === 'memory' ? '#1d4ed8' : '#047857', width: 1.5, fill: 'rgba(0,0,0,0.04)' }],
            },
            [s.t, s[key]],
            el,
          );
        }
        box.setAttribute('data-drawn', '1');
      });
  }

  document.addEventListener('DOMContentLoaded', function () {
    banner = document.getElementById('conn');
    var events = document.body.getAttribute('data-events');
    if (events) connect(events);
    var inputs = document.querySelectorAll('input[data-filter-rows]');
    for (var i = 0; i < inputs.length; i++) {
      (function (input) {
        input.addEventListener('input', function () {
          filterRows(input);
        });
      })(inputs[i]);
    }
    var boxes = document.querySelectorAll('[data-series]');
    for (var j = 0; j < boxes.length; j++) drawCharts(boxes[j]);
  });
})();
