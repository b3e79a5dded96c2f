package plugin_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/automation/plugin"
)

// described is a plugin that describes its configuration per repository.
type described struct{ fake }

func (d described) DescribeConfig(org, repo string) string {
	if repo == "" {
		return ""
	}
	return "configured for " + org + "/" + repo
}

func (d described) Help() plugin.Help {
	return plugin.Help{Description: "d", Config: "d: {}\n", Commands: []plugin.Command{
		{Usage: "/d", Description: "does d", WhoCanUse: "Anyone", Examples: []string{"/d"}, Featured: true}}}
}

func (described) Handle(context.Context, logr.Logger, *plugin.Event) error { return nil }

type listed struct{ enablement }

func (l listed) EnabledRepos() map[string][]string { return l.enablement }
func (l listed) ExternalPlugins() map[string][]string {
	return map[string][]string{"acme": {"needs-rebase"}}
}

func TestProwHelp(t *testing.T) {
	set, err := plugin.NewSet(fake{"a", []string{"push"}}, described{fake{"d", []string{plugin.GenericComment}}})
	if err != nil {
		t.Fatal(err)
	}
	got := set.ProwHelp(listed{enablement{"acme": {"a", "d"}, "acme/widgets": {"d"}, "other/x": {"a"}}})
	want := plugin.ProwHelp{
		AllRepos:            []string{"acme/widgets", "other/x"},
		RepoPlugins:         map[string][]string{"": {"a", "d"}, "acme": {"a", "d"}, "acme/widgets": {"d"}, "other/x": {"a"}},
		RepoExternalPlugins: map[string][]string{"acme": {"needs-rebase"}},
		PluginHelp: map[string]plugin.ProwPluginHelp{
			"a": {Description: "a", Config: map[string]string{}, Events: []string{"push"}},
			"d": {Description: "d", Snippet: "d: {}\n", Config: map[string]string{"acme/widgets": "configured for acme/widgets"},
				Events:   []string{plugin.GenericComment},
				Commands: []plugin.ProwCommand{{Usage: "/d", Featured: true, Description: "does d", Examples: []string{"/d"}, WhoCanUse: "Anyone"}}},
		},
		ExternalPluginHelp: map[string]plugin.ProwPluginHelp{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ProwHelp (-want +got):\n%s", diff)
	}
	// Prow's tools read Go's default field names.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AllRepos", "RepoPlugins", "RepoExternalPlugins", "PluginHelp", "ExternalPluginHelp"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON lacks %s: %s", k, b)
		}
	}
	// Without an enablement every plugin is still listed.
	if got := set.ProwHelp(nil); len(got.PluginHelp) != 2 || len(got.RepoPlugins[""]) != 2 {
		t.Errorf("ProwHelp(nil) = %+v", got)
	}
}

func TestFormatResponseRaw(t *testing.T) {
	got := plugin.FormatResponseRaw("/lgtm\nthanks", "https://example.com/c/1", "bob", "you cannot LGTM your own PR.")
	want := "@bob: you cannot LGTM your own PR.\n\n<details>\n\nIn response to [this](https://example.com/c/1):\n\n>/lgtm\n>thanks\n\n\n" +
		plugin.AboutBot + "\n</details>"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	c := &plugin.Comment{Body: "/x", HTMLURL: "u", Author: "a"}
	if got := c.Respond("r"); got != plugin.FormatResponseRaw("/x", "u", "a", "r") {
		t.Errorf("Respond = %q", got)
	}
	if got := plugin.FormatSimpleResponse("a", "m"); got != "@a: m\n\n<details>\n\n"+plugin.AboutBot+"\n</details>" {
		t.Errorf("FormatSimpleResponse = %q", got)
	}
}
