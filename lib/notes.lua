-- Shared by /notes and /notes/{id}: what a client may write, who owns a note,
-- and versions in ETag / If-Match.
local M = {}

-- fields picks what a client may set: title and body, never id, owner or a
-- _field. A field left out stays as it is on PATCH.
function M.fields(body)
  body = body or {}
  if type(body) ~= "table" or body[1] ~= nil then -- an array, a string, a number
    error({ status = 422, title = "Unprocessable Entity", detail = "the body must be a JSON object" })
  end
  return { title = body.title, body = body.body }
end

-- limit is the page size asked for with ?limit=, from 1 to 100 (default 50).
function M.limit(s)
  local n = math.floor(tonumber(s) or 50)
  return math.max(1, math.min(n, 100))
end

-- owned returns the note of req.params.id when the signed-in user owns it,
-- and raises a 404 otherwise.
function M.owned(req)
  local note = req.stash:get(req.params.id)
  if not note or note.owner ~= req.state.user.id then
    error({ status = 404, title = "Not Found", detail = "no note " .. req.params.id })
  end
  return note
end

-- etag is a note's version as an HTTP entity tag: "3".
function M.etag(note)
  return '"' .. string.format("%d", note._version) .. '"'
end

-- ifMatch reads If-Match: "3" (an ETag sent back) or 3. It is nil without
-- the header or with "*". Another value ("latest", W/"3") is no version of
-- a note, never nil, which would skip the check: the precondition cannot
-- hold, so it is a 412 and nothing is written. A version no note is at (0)
-- is a 409.
function M.ifMatch(req)
  local h = req.headers["if-match"]
  if h == nil or h == "*" then return nil end
  -- Too many digits read as a huge number no note is at: a 409.
  local v = tonumber(string.match(h, '^(%d+)$') or string.match(h, '^"(%d+)"$') or "")
  if not v then
    error({ status = 412, title = "Precondition Failed", detail = "If-Match must be a version of the note, like \"3\"" })
  end
  return v
end

return M
