# Warnings and sanitizers shared by every target of the project.
add_library(huashan_warnings INTERFACE)
target_compile_options(huashan_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-missing-field-initializers>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${HUASHAN_WERROR}>>:-Werror>)

if(HUASHAN_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>)
  add_link_options(-fsanitize=address,undefined)
endif()

# Builds the given targets with the project's warning set.
function(huashan_target_defaults target)
  target_link_libraries(${target} PRIVATE huashan_warnings)
endfunction()
