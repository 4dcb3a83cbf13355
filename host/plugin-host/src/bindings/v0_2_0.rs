//! `interwork:plugin@0.2.0`, the newest contract: its types are the host's.

wasmtime::component::bindgen!({
    path: "../../wit/interwork-plugin/0.2.0",
    world: "mapper-converter",
    additional_derives: [PartialEq],
});
