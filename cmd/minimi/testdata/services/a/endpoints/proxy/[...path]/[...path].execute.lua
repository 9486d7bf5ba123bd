-- /proxy/<rest>?to=<service>&ms=<n> calls <service> (default b) on /<rest>
-- and answers with the callee's status and body.
return {
  ANY = function(req, res)
    local r = service.call(req.query.to or "b", req.method, "/" .. req.params.path, req.body,
      { ms = tonumber(req.query.ms) })
    res:status(r.status):json({ status = r.status, from = r.body })
  end,
}
