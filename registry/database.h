// RAII handles over SQLite: Database (one connection), Statement (one prepared statement with bound parameters),
// Transaction (BEGIN IMMEDIATE, rolled back unless committed), Savepoint (nests; a Transaction when alone) and
// ReadSnapshot (several reads from one committed state).
// Every value reaches SQLite as a bound parameter. Connections run in WAL mode with a busy timeout and a retry
// loop around BEGIN/COMMIT and first steps, so one writer and many readers never surface "database is locked".
//
//   auto db = Database::open("grove.db", OpenMode::kReadWrite);   // creates and migrates
//   Transaction tx(db);
//   db.prepare("UPDATE runs SET status = ?1 WHERE id = ?2").bind_all("done", run_id).run();
//   tx.commit();
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace grove::registry {

enum class OpenMode {
  kReadWrite,  // creates the file when missing and migrates it to the current schema
  kReadOnly,   // never creates, writes or migrates; a missing file is bad input
};

class Statement;

class Database {
 public:
  // Opens a registry file. Rejects (RegistryError, exit 2, naming the file and why) a file that is not SQLite,
  // a SQLite file of another application, a registry newer than this binary, and in read-only mode a missing file;
  // a rejected file is left byte-identical and gains no -wal/-shm files.
  static Database open(const std::filesystem::path& path, OpenMode mode = OpenMode::kReadWrite);
  // A private, migrated registry in memory (tests, dry runs).
  static Database open_in_memory();

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  Statement prepare(std::string_view sql);
  // Runs SQL without parameters (several statements allowed): schema and pragmas only, never values.
  void execute(std::string_view sql);

  int64_t last_insert_rowid() const;
  int64_t changes() const;  // rows changed by the last INSERT/UPDATE/DELETE
  bool in_transaction() const;
  bool read_only() const;
  const std::string& path() const;  // ":memory:" for in-memory registries

  // Throws RegistryError "registry PATH: WHAT: <SQLite message>"; constraint failures are bad input.
  [[noreturn]] void fail(std::string_view what, int sqlite_code) const;

  struct Impl;

 private:
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Statement {
 public:
  Statement(Database::Impl& db, std::string_view sql);
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQL's ?1, ?2, ...
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, std::nullopt_t);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, std::nullopt);
  }
  // Binds the arguments to ?1, ?2, ... in order.
  template <typename... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // Advances to the next row: true when a row is available, false when done.
  bool step();
  // Steps a statement that returns no rows (INSERT/UPDATE/DELETE/DDL) to completion.
  void run();
  // Clears bindings and rewinds, ready to bind and run again.
  void reset();

  int column_count() const;
  std::string column_name(int column) const;
  bool is_null(int column) const;
  int64_t get_int64(int column) const;
  double get_double(int column) const;
  std::string get_text(int column) const;
  std::optional<int64_t> get_optional_int64(int column) const;
  std::optional<double> get_optional_double(int column) const;
  std::optional<std::string> get_optional_text(int column) const;

 private:
  void check_bind(int rc, int index);
  Database::Impl* db_;
  sqlite3_stmt* stmt_;
  bool has_row_ = false;  // a row has been returned since the last reset (a busy retry would repeat it)
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in its destructor unless committed. Waits (busy timeout plus retries)
// while another process holds the write lock.
class Transaction {
 public:
  explicit Transaction(Database& db);
  Transaction(Transaction&&) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Database* db_;
  bool open_ = true;
};

// One consistent view across several queries (a deferred read transaction), so a reader never mixes rows from
// before and after a concurrent writer's commit. Inside an already open transaction it does nothing.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Database& db);
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  ~ReadSnapshot();

 private:
  Database* db_;
  bool owns_;
};

// A unit of work that nests: a SAVEPOINT inside an open transaction, otherwise its own BEGIN IMMEDIATE transaction.
// Rolled back in its destructor unless released. The typed API uses it so that each call is atomic on its own and
// also composes into a caller's Transaction.
class Savepoint {
 public:
  explicit Savepoint(Database& db);
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  ~Savepoint();
  void release();

 private:
  Database* db_;
  std::optional<Transaction> transaction_;  // set when no transaction was open
  bool open_ = true;
};

}  // namespace grove::registry
