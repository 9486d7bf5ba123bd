return {
  POST = function(req, res)
    local plain = req.body.password
    local stored = auth.hash(plain)
    res:json({
      hash = stored,
      same = stored == plain,
      verified = auth.verify(stored, plain),
      wrong = auth.verify(stored, plain .. "!"),
    })
  end,
}
