#include "registry/database.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>
#include <utility>

#include "common/errors.h"
#include "registry/migrations.h"
#include "registry/registry_file.h"

namespace grove::registry {
namespace fs = std::filesystem;
namespace {

// SQLite waits this long inside one call for a lock; the retry loops below wait up to kBusyDeadline in total.
constexpr int kBusyTimeoutMs = 10000;
constexpr auto kBusyDeadline = std::chrono::seconds(60);
constexpr auto kBusyPause = std::chrono::milliseconds(5);

bool is_busy(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

bool is_bad_input(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_CONSTRAINT || primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
}

// Runs `attempt` until it returns something other than a busy code or the deadline passes.
template <typename Attempt>
int retry_while_busy(Attempt attempt) {
  const auto deadline = std::chrono::steady_clock::now() + kBusyDeadline;
  int rc = attempt();
  while (is_busy(rc) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kBusyPause);
    rc = attempt();
  }
  return rc;
}

}  // namespace

struct Database::Impl {
  sqlite3* handle = nullptr;
  std::string path;
  OpenMode mode = OpenMode::kReadWrite;

  ~Impl() {
    if (handle != nullptr) sqlite3_close_v2(handle);
  }

  [[noreturn]] void fail(std::string_view what, int code) const {
    const char* message = handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(code);
    throw RegistryError(fmt::format("registry {}: {}: {} (SQLite code {})", path, what, message, code),
                        is_bad_input(code) ? ExitCode::kBadInput : ExitCode::kRuntime);
  }

  void exec(std::string_view sql) {
    const std::string text(sql);
    const int rc = retry_while_busy([&] { return sqlite3_exec(handle, text.c_str(), nullptr, nullptr, nullptr); });
    if (rc != SQLITE_OK) fail(fmt::format("cannot run '{}'", text.substr(0, 60)), rc);
  }

  int64_t pragma_int(const char* sql) {
    Statement statement(*this, sql);
    return statement.step() ? statement.get_int64(0) : 0;
  }
};

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

Database Database::open(const fs::path& path, OpenMode mode) {
  const bool read_only = mode == OpenMode::kReadOnly;
  // Inspect the bytes first: a file we refuse must never be touched by SQLite.
  const RegistryFileHeader header = read_registry_file_header(path);
  if (!header.exists && read_only) {
    throw RegistryError(fmt::format("registry {}: no such file (queries never create a registry; pass --registry or "
                                    "set GROVE_REGISTRY)",
                                    path.string()),
                        ExitCode::kBadInput);
  }
  if (header.exists && header.size == 0 && read_only) {
    throw RegistryError(fmt::format("registry {}: an empty file, not a Grove registry", path.string()),
                        ExitCode::kBadInput);
  }
  if (header.size > 0 && !header.has_wal) {
    // Without a -wal file the header is the committed state, so it decides.
    check_registry_identity(path, header.application_id, header.user_version, header.schema_cookie != 0, read_only);
  }

  auto impl = std::make_unique<Impl>();
  impl->path = path.string();
  impl->mode = mode;
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(impl->path.c_str(), &impl->handle, flags, nullptr);
  if (rc != SQLITE_OK) impl->fail("cannot open", rc);
  sqlite3_extended_result_codes(impl->handle, 1);
  sqlite3_busy_timeout(impl->handle, kBusyTimeoutMs);

  // With a -wal file the committed state may be newer than the header: ask SQLite before changing anything.
  const auto application_id = static_cast<uint32_t>(impl->pragma_int("PRAGMA application_id"));
  const auto user_version = static_cast<uint32_t>(impl->pragma_int("PRAGMA user_version"));
  const bool has_tables = impl->pragma_int("SELECT count(*) FROM sqlite_schema") > 0;
  check_registry_identity(path, application_id, user_version, has_tables, read_only);

  Database db(std::move(impl));
  if (read_only) {
    db.execute("PRAGMA query_only = ON");
    if (user_version < static_cast<uint32_t>(kSchemaVersion)) {
      throw RegistryError(fmt::format("registry {}: schema version {} is older than this grove's ({}); run a grove "
                                      "command that writes to it once to migrate it",
                                      path.string(), user_version, kSchemaVersion),
                          ExitCode::kBadInput);
    }
  } else {
    db.execute("PRAGMA journal_mode = WAL");
    db.execute("PRAGMA foreign_keys = ON");
    migrate(db);
  }
  return db;
}

Database Database::open_in_memory() {
  auto impl = std::make_unique<Impl>();
  impl->path = ":memory:";
  const int rc = sqlite3_open_v2(":memory:", &impl->handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) impl->fail("cannot open", rc);
  sqlite3_extended_result_codes(impl->handle, 1);
  Database db(std::move(impl));
  db.execute("PRAGMA foreign_keys = ON");
  migrate(db);
  return db;
}

Statement Database::prepare(std::string_view sql) { return Statement(*impl_, sql); }
void Database::execute(std::string_view sql) { impl_->exec(sql); }
int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(impl_->handle); }
int64_t Database::changes() const { return sqlite3_changes64(impl_->handle); }
bool Database::in_transaction() const { return sqlite3_get_autocommit(impl_->handle) == 0; }
bool Database::read_only() const { return impl_->mode == OpenMode::kReadOnly; }
const std::string& Database::path() const { return impl_->path; }
void Database::fail(std::string_view what, int sqlite_code) const { impl_->fail(what, sqlite_code); }

// --- Statement ---

Statement::Statement(Database::Impl& db, std::string_view sql) : db_(&db), stmt_(nullptr) {
  const int rc = retry_while_busy([&] {
    return sqlite3_prepare_v2(db.handle, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  });
  if (rc != SQLITE_OK) db.fail(fmt::format("cannot prepare '{}'", sql.substr(0, 80)), rc);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), has_row_(other.has_row_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    has_row_ = other.has_row_;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void Statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK) db_->fail(fmt::format("cannot bind parameter {} of '{}'", index, sqlite3_sql(stmt_)), rc);
}

Statement& Statement::bind(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
  check_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

bool Statement::step() {
  const auto deadline = std::chrono::steady_clock::now() + kBusyDeadline;
  for (;;) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
      has_row_ = true;
      return true;
    }
    if (rc == SQLITE_DONE) return false;
    // Before any row came back, starting over is safe for a read (it changes nothing) and for any statement outside
    // an explicit transaction (its implicit one was rolled back). Writes inside a transaction never wait here:
    // Transaction takes the write lock up front (BEGIN IMMEDIATE).
    const bool can_retry =
        !has_row_ && (sqlite3_stmt_readonly(stmt_) != 0 || sqlite3_get_autocommit(db_->handle) != 0);
    if (is_busy(rc) && can_retry && std::chrono::steady_clock::now() < deadline) {
      sqlite3_reset(stmt_);
      std::this_thread::sleep_for(kBusyPause);
      continue;
    }
    sqlite3_reset(stmt_);
    db_->fail(fmt::format("'{}' failed", std::string_view(sqlite3_sql(stmt_)).substr(0, 80)), rc);
  }
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  has_row_ = false;
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }
std::string Statement::column_name(int column) const { return sqlite3_column_name(stmt_, column); }
bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
int64_t Statement::get_int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::get_double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::get_text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  return text == nullptr ? std::string() : std::string(text, static_cast<size_t>(size));
}

std::optional<int64_t> Statement::get_optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return get_int64(column);
}

std::optional<double> Statement::get_optional_double(int column) const {
  if (is_null(column)) return std::nullopt;
  return get_double(column);
}

std::optional<std::string> Statement::get_optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return get_text(column);
}

// --- Transaction and Savepoint ---

Transaction::Transaction(Database& db) : db_(&db) { db.execute("BEGIN IMMEDIATE"); }

Transaction::Transaction(Transaction&& other) noexcept : db_(other.db_), open_(std::exchange(other.open_, false)) {}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    db_->execute("ROLLBACK");
  } catch (...) {
    // A failed rollback leaves SQLite to roll back when the connection closes; never throw from a destructor.
  }
}

void Transaction::commit() {
  db_->execute("COMMIT");  // retried while busy; on failure the transaction stays open and is rolled back
  open_ = false;
}

ReadSnapshot::ReadSnapshot(Database& db) : db_(&db), owns_(!db.in_transaction()) {
  if (owns_) db.execute("BEGIN DEFERRED");
}

ReadSnapshot::~ReadSnapshot() {
  if (!owns_ || !db_->in_transaction()) return;
  try {
    db_->execute("ROLLBACK");  // nothing was written; this only ends the read
  } catch (...) {
    // Never throw from a destructor; closing the connection ends the read as well.
  }
}

Savepoint::Savepoint(Database& db) : db_(&db) {
  if (db.in_transaction()) {
    db.execute("SAVEPOINT grove_unit");
  } else {
    transaction_.emplace(db);
  }
}

Savepoint::~Savepoint() {
  if (!open_ || transaction_) return;  // a Transaction rolls itself back
  try {
    db_->execute("ROLLBACK TO grove_unit; RELEASE grove_unit");
  } catch (...) {
    // As for Transaction: never throw from a destructor; the outer transaction will roll back.
  }
}

void Savepoint::release() {
  if (transaction_) {
    transaction_->commit();
  } else {
    db_->execute("RELEASE grove_unit");
  }
  open_ = false;
}

}  // namespace grove::registry
