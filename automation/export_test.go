package automation

// ParsedSize is parsedSize for the tests of package automation_test.
var ParsedSize = parsedSize
