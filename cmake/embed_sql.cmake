# Writes a C++ file holding the text of each migration file (cmake -P script).
# Inputs: OUTPUT (the .cpp to write), INPUTS (the .sql files, sorted).
set(body "// Generated from sql/*.sql by cmake/embed_sql.cmake. Do not edit.\n")
string(APPEND body "#include \"arena/store/migrations.hpp\"\n\nnamespace huashan::arena::store {\n\n")
string(APPEND body "std::vector<migration_source> embedded_migration_sources() {\n  return {\n")
foreach(path IN LISTS INPUTS)
  get_filename_component(name ${path} NAME)
  file(READ ${path} text)
  string(APPEND body "    {\"${name}\", R\"huashan_sql(${text})huashan_sql\"},\n")
endforeach()
string(APPEND body "  };\n}\n\n}  // namespace huashan::arena::store\n")
file(WRITE ${OUTPUT}.tmp "${body}")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
