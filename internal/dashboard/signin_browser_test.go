package dashboard_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/azemu/azemu/internal/authz"
	"github.com/azemu/azemu/internal/dashboard"
	"github.com/azemu/azemu/internal/identity"
)

// strictRig is a rig in the strict mode: alice owns subA; subB is another's.
func strictRig(t *testing.T) *rig {
	t.Helper()
	dir, err := authz.ParseDirectory([]byte(`{"principals": [
		{"name": "alice", "clientId": "alice-app", "clientSecret": "alice-secret", "roles": [{"role": "Owner", "scope": "/subscriptions/`+subA+`"}]},
		{"name": "seeder", "clientId": "seeder-app", "clientSecret": "seeder-secret", "roles": [
			{"role": "Owner", "scope": "/subscriptions/`+subA+`"}, {"role": "Owner", "scope": "/subscriptions/`+subB+`"}]}]}`),
		identity.DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	return newRig(t, func(c *dashboard.Config) {
		ids, err := identity.New(identity.Config{DataDir: data, Now: c.Engine.Now, Directory: dir})
		if err != nil {
			t.Fatal(err)
		}
		seeder, _ := dir.Lookup("seeder-app")
		c.Principals, c.Mint = dir, ids.Mint
		c.Token = func(tok, base string) (*authz.Principal, error) {
			if tok == "test" { // the rig's own requests, which seed the fleet
				return seeder, nil
			}
			return ids.PrincipalOf(tok, base)
		}
	})
}

// In the strict mode the page asks for a principal, then shows only what
// it may see, and its actions work (the session's CSRF token goes with
// them); the session cookie is out of the page's scripts' reach.
func TestStrictSignInInChromium(t *testing.T) {
	exe := chromium(t)
	r := strictRig(t)
	seedDemo(r)
	r.group(subB, "theirs", "eastus")
	r.vm(subB, "theirs", "their-1", "eastus")
	r.advance(80 * time.Second)

	ctx, exceptions := browser(t, exe, r)
	step := stepper(t, ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 1000), chromedp.Navigate(r.srv.URL+"/")); err != nil {
		t.Fatalf("opening the dashboard: %v", err)
	}
	step("the page asks for a principal",
		chromedp.WaitVisible(chromedp.CSS(`#signin-id`)),
		chromedp.SendKeys(chromedp.CSS(`#signin-id`), "alice-app"),
		chromedp.SendKeys(chromedp.CSS(`#signin-secret`), "wrong"),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#signin-error').textContent.includes('not a principal')`, chromedp.WithPollingMutation()),
	)
	step("signed in, it lists alice's VMs and not the others'",
		chromedp.SetValue(chromedp.CSS(`#signin-secret`), "alice-secret"),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#fleet tbody tr[data-key]').length === 7`, chromedp.WithPollingMutation()),
		chromedp.Poll[chromedp.Void](`!document.body.textContent.includes('their-1') && !document.body.textContent.includes('`+subB+`')`),
	)
	if c, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`)); err != nil || strings.Contains(c, "azemu_session") {
		t.Fatalf("the page's scripts read the session cookie: %q %v", c, err)
	}
	web1 := strings.ToLower(vmID(subA, "web", "web-1"))
	row := fmt.Sprintf(`#fleet tr[data-key=%q]`, web1)
	step("its ARM JSON comes with the principal's token, and an action works",
		chromedp.Click(chromedp.CSS(row+" td")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#vm-json')?.textContent.includes('"PowerState/running"')`, chromedp.WithPollingMutation()),
		chromedp.Click(chromedp.CSS(`#detail button[data-action="deallocate"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-ok`)),
		chromedp.Click(chromedp.CSS(`#confirm-ok`)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%q)?.dataset.power === 'stopping'`, row), chromedp.WithPollingMutation()),
	)
	for _, e := range exceptions() {
		t.Errorf("the page threw: %s", e)
	}
}
