-- POST {"claims": {...}, "ttl": seconds} signs a token for the claims.
return {
  POST = function(req, res)
    res:json({ token = auth.sign(req.body.claims, req.body.ttl) })
  end,
}
