/**
 * Most connections the PostgreSQL pool opens by default (`DATABASE_POOL_SIZE`). Every statement
 * the gateway sends is short (one look-up, one save, a poller's claim), so a few connections keep
 * a server busy; more only add server processes competing for its cores. Measured on the bench's
 * machine (2 cores, gateway and PostgreSQL on it, 32 clients, 20 ms upstream): 2 and 4 connections
 * served 17–19 % and 12 % more upserts a second than 10 (pg's default, ours before), the server
 * spending ~130 against ~190 µs of CPU per look-up and save. Raise it for a larger server or one
 * farther away (each round trip then holds a connection longer).
 */
export const DEFAULT_POOL_SIZE = 4;
