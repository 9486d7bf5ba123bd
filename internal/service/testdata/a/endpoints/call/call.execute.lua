-- Calls the service, method and path of the JSON body and answers with the
-- reply it got: { status, headers, body }.
return {
  POST = function(req, res)
    local c = req.body
    res:json(service.call(c.service or "b", c.method, c.path, c.body, c.opts))
  end,
}
