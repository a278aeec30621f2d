// Package rules will hold the detection engine (Sigma rules and the exfiltration
// pack, issue 3). It is empty until then.
package rules
