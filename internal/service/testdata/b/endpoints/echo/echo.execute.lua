return {
  ANY = function(req, res)
    res:json({
      method = req.method, path = req.path, query = req.query, body = req.body, raw = req.raw,
      id = req.id, client = req.client,
      ctype = req.headers["content-type"], test = req.headers["x-test"],
    })
  end,
}
