-- POST with "Authorization: Bearer <token>" answers the token's claims, or 401.
return {
  POST = function(req, res)
    local claims, err = auth.check(req.headers.authorization)
    if not claims then
      return res:error(401, err)
    end
    res:json(claims)
  end,
}
