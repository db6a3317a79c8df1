// fast-check for core tests, usable in both lanes (see timers-absent.ts). Import `fc` from here.
import "./timers-absent";

export { default as fc } from "fast-check";
