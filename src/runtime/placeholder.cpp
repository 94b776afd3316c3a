// filled by the runtime core
