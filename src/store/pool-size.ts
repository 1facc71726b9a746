/**
 * Most connections the PostgreSQL pool opens by default (`DATABASE_POOL_SIZE`). Every statement
 * the gateway sends is short (one look-up, one save, a poller's claim), so a few connections keep
 * a server busy; more only add server processes competing for its cores. Measured on the bench's
 * machine (2 cores, gateway and PostgreSQL on it, 32 clients, 20 ms upstream): 4 connections
 * served 8–12 % more upserts a second than 10 (pg's default, ours before) and 2 about 19 % more,
 * the server spending 130–218 against 230–274 µs of CPU per claim and save (`bench/pg-pool.ts`).
 * Not 2: a batch's claim transaction and the pollers hold connections too. Raise it for a larger
 * server or one farther away (each round trip then holds a connection longer).
 */
export const DEFAULT_POOL_SIZE = 4;
