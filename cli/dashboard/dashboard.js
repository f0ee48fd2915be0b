// soasync dashboard: refresh in place and filter as one types. The page
// works without this file (a <noscript> refresh, a GET form); this only
// fetches the same page again and swaps its <main>.
(function () {
	"use strict";
	var body = document.body;
	var every = Math.max(2, parseInt(body.getAttribute("data-refresh"), 10) || 10) * 1000;
	var q = document.getElementById("q");
	var timer = null;
	var pending = null;
	var typing = null;

	body.classList.add("js");

	function schedule(ms) {
		clearTimeout(timer);
		timer = setTimeout(refresh, ms === undefined ? every : ms);
	}

	function swap(html) {
		var doc = new DOMParser().parseFromString(html, "text/html");
		var fresh = doc.getElementById("main");
		var old = document.getElementById("main");
		if (!fresh || !old) {
			return;
		}
		// keep what the reader opened (the timeline's table)
		var open = old.querySelectorAll("details[open]").length > 0;
		old.replaceWith(fresh);
		if (open) {
			fresh.querySelectorAll("details").forEach(function (d) { d.open = true; });
		}
		document.title = doc.title;
		var foot = doc.querySelector("footer .updated");
		var here = document.querySelector("footer .updated");
		if (foot && here) {
			here.textContent = foot.textContent;
		}
		filterRows();
	}

	function refresh() {
		if (document.hidden) {
			schedule();
			return;
		}
		if (pending) {
			pending.abort();
		}
		pending = new AbortController();
		fetch(location.pathname + location.search, {
			signal: pending.signal,
			cache: "no-store",
			headers: { "Accept": "text/html" }
		}).then(function (r) {
			if (!r.ok) {
				throw new Error("HTTP " + r.status);
			}
			return r.text();
		}).then(function (html) {
			body.classList.remove("stale");
			swap(html);
			schedule();
		}).catch(function (e) {
			if (e.name !== "AbortError") {
				body.classList.add("stale");
				schedule();
			}
		});
	}

	// Hide the rows already on the page at once; the server's answer (all
	// zones, problems first) follows.
	function filterRows() {
		if (!q) {
			return;
		}
		var text = q.value.trim().toLowerCase();
		document.querySelectorAll(".matrix tbody tr").forEach(function (tr) {
			var zone = (tr.getAttribute("data-zone") || "").toLowerCase();
			tr.hidden = text !== "" && zone.indexOf(text) < 0;
		});
	}

	if (q) {
		q.addEventListener("input", function () {
			filterRows();
			clearTimeout(typing);
			typing = setTimeout(function () {
				var u = new URL(location.href);
				if (q.value.trim() === "") {
					u.searchParams.delete("q");
				} else {
					u.searchParams.set("q", q.value.trim());
				}
				history.replaceState(null, "", u.pathname + u.search);
				refresh();
			}, 250);
		});
		q.form.addEventListener("submit", function (ev) {
			ev.preventDefault();
		});
		document.addEventListener("keydown", function (ev) {
			if (ev.key === "/" && document.activeElement !== q) {
				ev.preventDefault();
				q.focus();
				q.select();
			} else if (ev.key === "Escape" && document.activeElement === q) {
				q.value = "";
				q.dispatchEvent(new Event("input"));
			}
		});
	}

	document.addEventListener("visibilitychange", function () {
		if (!document.hidden) {
			schedule(0);
		}
	});
	schedule();
})();
