// Whether a browser request that changes state (a battle, a turn, a vote)
// comes from the arena's own pages. Browsers send `Origin` on every POST; a
// page on another site that posts to the arena sends its own. The session
// cookie is SameSite=Lax, so such a post carries no session anyway; this
// check refuses it by name, also where a browser would send the cookie.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace huashan::arena::http {

// No `origin` (not a browser: scripts and API clients): allowed. With
// `allowed` empty, the origin must be this server's as the client reached it:
// http:// or https:// followed by the Host header; otherwise one of `allowed`
// (e.g. "https://arena.example.org" behind a proxy that rewrites Host).
// Compared without regard to case; "null" (an opaque origin) never matches.
bool origin_allowed(const std::optional<std::string>& origin, std::string_view host,
                    const std::vector<std::string>& allowed);

// An origin as --allowed-origin takes it: scheme://host[:port], no path;
// the reason it is not, or nullopt when it is.
std::optional<std::string> origin_problem(std::string_view origin);

}  // namespace huashan::arena::http
