// Package router turns the endpoints/ folder of a service into a route
// table (Walk) and serves that table over HTTP.
//
// Walk is pure: it reads directory listings through an fs.FS rooted at the
// endpoints folder and never reads a file, runs Lua or touches HTTP. Every
// problem in the tree is reported at once, so that "minimi check" and a hot
// reload can show them all.
//
// # Folders are URLs
//
// The endpoints folder is the URL "/"; endpoints/foo/bar is "/foo/bar". A
// folder's name is parsed by ParseSegment:
//
//	foo          static     one literal segment            /foo          chi /foo
//	[id]         param      one segment, req.params.id     /users/[id]   chi /users/{id}
//	[...rest]    catch-all  one segment or more            /files/[...p] chi /files/*
//	(name)       group      no segment at all              URL of its parent
//
// Parameter and group names match [A-Za-z_][A-Za-z0-9_]*. A static name may
// hold any character but / { } * [ ] ( ), whitespace and control characters,
// and may not start with ".". Folder.URL uses the MiniMi notation above,
// Folder.Pattern the chi one.
//
// # Request paths
//
// chi routes on Path.Route (ParsePath), never on the path as sent: the path
// is cleaned ("//", "." and ".." resolved, as path.Clean does), then each
// segment is decoded and "%" and "/" are escaped again. So a static folder
// matches its decoded name whatever escapes a client chose, an escaped
// slash (%2F) stays inside its segment, and Params decodes each value
// exactly once. A "%" in a static folder name is "%25" in its Pattern.
// Params refuses a value that is or holds a "." or ".." segment once
// decoded (ErrBadPath): the plain ones were resolved by cleaning, so such a
// value was smuggled in escaped (%2E%2E, ..%2F).
//
// # Files in a folder
//
// The files of a folder are named after it, its base: the folder name, or
// "endpoint" for the root.
//
//	<base>.<phase>.lua   the processor of a configured phase (bar.load.lua, [id].execute.lua)
//	<base>.schema.json   a record collection at this folder
//	<base>.stash.json    where the collections of this folder and below are stored
//	<base>.install.lua   seeds the collection, once
//
// Markdown files (*.md, any case) are ignored, and so are dotfiles and
// dotfolders, whatever they hold. Every other file is an error naming it:
// a typo (bar.lod.lua) or a phase that is not configured is ErrUnknownPhase;
// a processor named after another folder (foo.load.lua inside bar/) or a
// stray file is ErrUnknownFile. Paths in a Folder are relative to the
// endpoints folder and slash-separated ("foo/bar/bar.load.lua"); paths in
// errors are relative to the service directory ("endpoints/foo/bar/bar.lod.lua").
// Symbolic links are followed.
//
// # Group folders
//
// A group folder adds no URL segment: endpoints/(admin)/users serves
// "/users". A group folder is never the target of a URL, and Table.Lookup
// never returns one: its processors run only for the requests that target
// one of its descendants, as a shared layer of the pipeline (an access
// check for all of (admin), say). A group folder without subfolders is
// allowed, but its processors never run.
//
// # Rules for the tree
//
// These are checked before any route reaches chi, which would panic or
// silently route a request to the wrong folder:
//
//   - no folder may serve /_minimi, reserved for built-ins (ErrReserved);
//   - a catch-all folder has no subfolders (ErrCatchAllNotLast);
//   - two folders may not serve one URL, e.g. (a)/x and x (ErrDuplicateRoute);
//   - two param folders, or two catch-all folders, may not share a parent,
//     counting the children of its group folders as its own: /users/[id]
//     beside /users/[slug] (ErrParamConflict);
//   - a parameter name is bound once along a path: not /a/[id]/b/[id]
//     (ErrDuplicateParam).
//
// A conflict is reported once, on its topmost folders: the subfolders of
// two conflicting folders are not reported again. A param and a catch-all
// folder may share a parent; chi prefers the param for a single segment.
//
// A folder whose name is not a valid segment is reported (ErrBadFolderName)
// and not walked, so its subtree is checked once the name is fixed.
package router
