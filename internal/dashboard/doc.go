// Package dashboard is azemu's Resource Explorer: the web page served at
// https://<listen>/ that shows the fleet move, acts on it and shows what it
// costs.
//
// What it owns:
//
//   - The page itself, embedded in the binary (static/index.html, app.js,
//     app.css: no framework, no CDN, no build step).
//   - Its JSON endpoints under /_dashboard/api/ (tree, fleet table pages,
//     one VM's timeline and history, daily cost per subscription, actions,
//     operations). The page reads ARM JSON from the ARM API itself, so what
//     it shows is what the API returns; it never depends on /_azemu.
//   - The live feed, /_dashboard/api/events: server-sent events fed by
//     engine.OnChange, coalesced per VM and flushed at most every 200 ms per
//     client, with a bounded buffer per client; a client that falls too far
//     behind is dropped (its browser reconnects and reloads), never waited
//     for: the engine's callback only updates maps and never blocks.
//   - A running cost ledger per resource, seeded from the history once and
//     then fed by the same changes, so the fleet table shows cost so far and
//     cost per hour without re-metering the history on every request.
//   - What a request may see: one Authorizer decides it (Open by default,
//     as the ARM API accepts any token); every endpoint and the live feed
//     filter by the Scope it returns, so a strict mode plugs in there.
//
// Actions go through engine.Act with lifecycle kinds, the same path as the
// ARM API's POST actions. The package imports engine, lifecycle, billing,
// store and armid; it must not import the ARM layer (armapi), which mounts
// it as its fallback handler.
package dashboard
