-- GET /me answers the signed-in user (never the password hash: it is x-hidden).
return {
  GET = function(req, res)
    local user = stash.at("/users"):get(req.state.user.id)
    if not user then return res:error(404, "the account of this token is gone") end
    res:json(user)
  end,
}
