-- Every URL under (private) needs "Authorization: Bearer <token>" from
-- POST /login. A group folder adds no URL segment: this covers /me, /notes
-- and /notes/{id}, and runs before their execute processors.
return {
  routes = function()
    return {
      ["/*"] = function(req, res)
        local claims, why = auth.check(req.headers.authorization)
        if not claims then
          return res:error(401, why) -- "no token", "token invalid" or "token expired"
        end
        req.state.user = { id = claims.sub, email = claims.email }
      end,
    }
  end,
}
