// Package config reads an experiment's configuration: the YAML files of
// each category (config_general, config_models, ...) merged in order with
// powerful_benchmarker's key suffixes (~OVERRIDE~, ~APPLY~, ~SWAP~,
// ~DELETE~, search ranges), then the command-line overrides (ParseArgs,
// Load), into a Tree that remembers where every value was set. Components
// ({TypeName: {param: value}}) are decoded by the Registry of their kind
// once into typed values (Built), reading their parameters through Params,
// which records the defaults it fills in so that the saved config is fully
// resolved; a component that keeps state gives each fold a fresh copy
// (Stateful, Instance). Every user error is an *Error naming the file or
// flag and the key path (JoinPath).
package config
