// Leaderboard routes, served from the snapshots leaderboard_service keeps in
// memory (requests never compute):
//   GET /api/leaderboard?category=&language=&style=true|false  latest snapshot
//   GET /api/leaderboard/{snapshot}                            a stored snapshot
//   GET /api/leaderboard.csv?category=&language=&style=        rows as CSV
//   GET /api/matrices?category=&language=                      battle counts, win fractions, predictions
//   GET /api/battles.csv                                       the counted votes, LMArena's columns
//                                                              (read from the database: may block)
// No snapshot yet (before the first counted vote), or an unknown category or
// language: 404 naming it. A bad `style` or snapshot id: 400 naming it.
#pragma once

#include "arena/http/server.hpp"
#include "arena/service/leaderboard_service.hpp"

namespace huashan::arena::http {

// Adds the routes above; `boards` must outlive the router.
void add_leaderboard_routes(router& routes, const leaderboard_service& boards);

}  // namespace huashan::arena::http
